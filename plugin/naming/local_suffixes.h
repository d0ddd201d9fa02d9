// torchvision's numbering of repeated node names (NodePathTracer.
// _get_node_qualname): strip what would be FX's global `_<digits>` from a
// qualname, then count on from the latest name given so far that is the
// stem itself or the stem with `_<digits>`:
//
//   LocalSuffixes names;
//   names.Unique("layer1.0.add");    // "layer1.0.add"
//   names.Unique("layer1.0.add_1");  // "layer1.0.add_1" (stem layer1.0.add)
//   names.Unique("conv_1");          // "conv" if no conv came before
//
// torchvision scans every earlier name for each new one (quadratic); this
// keeps, per stem, the index the latest such name implies: one lookup and at
// most two updates per name, with the same results. (torchvision's regex also
// lets each '.' of the stem match any character, but such a match makes its
// own int() fail, so no name it returns comes from one.)
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace featx {

class LocalSuffixes {
 public:
  std::string Unique(std::string qualname);

  // For names read from alternative branches, of which FX records one: the
  // higher index of each stem.
  void MergeMax(const LocalSuffixes& other);

 private:
  void Remember(const std::string& name);

  absl::flat_hash_map<std::string, int64_t> next_index_;
};

}  // namespace featx
