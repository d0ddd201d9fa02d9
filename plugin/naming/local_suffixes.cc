#include "plugin/naming/local_suffixes.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace featx {
namespace {

// A trailing `_<digits>` after at least one character: the position of its
// '_', or npos (torchvision's `.+_[0-9]+$`).
size_t NumericSuffix(absl::string_view name) {
  const size_t underscore = name.rfind('_');
  if (underscore == absl::string_view::npos || underscore == 0 || underscore + 1 == name.size()) {
    return absl::string_view::npos;
  }
  const bool digits =
      std::all_of(name.begin() + underscore + 1, name.end(), [](char c) { return absl::ascii_isdigit(c); });
  return digits ? underscore : absl::string_view::npos;
}

}  // namespace

std::string LocalSuffixes::Unique(std::string qualname) {
  if (const size_t suffix = NumericSuffix(qualname); suffix != std::string::npos) qualname.resize(suffix);
  // One hash of the stem in the common case: its first name is the stem.
  auto [latest, first] = next_index_.try_emplace(qualname, 1);
  if (first) {
    // `conv_1_2` has stem `conv_1`, itself a name with stem `conv`.
    if (NumericSuffix(qualname) != std::string::npos) Remember(qualname);
    return qualname;
  }
  std::string name = absl::StrCat(qualname, "_", latest->second);
  Remember(name);
  return name;
}

// `name` is now the latest name with stem `name` (index 1 next) and, if it
// ends in `_<digits>`, the latest with the stem before them.
void LocalSuffixes::Remember(const std::string& name) {
  next_index_[name] = 1;
  const size_t suffix = NumericSuffix(name);
  if (suffix == std::string::npos) return;
  int64_t index = 0;
  // torchvision's int() takes any length; an index past int64's range counts
  // from 1.
  next_index_[name.substr(0, suffix)] =
      absl::SimpleAtoi(name.substr(suffix + 1), &index) && index < INT64_MAX ? index + 1 : 1;
}

void LocalSuffixes::MergeMax(const LocalSuffixes& other) {
  for (const auto& [stem, index] : other.next_index_) {
    int64_t& mine = next_index_[stem];
    mine = std::max(mine, index);
  }
}

}  // namespace featx
