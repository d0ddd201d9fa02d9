// Extractor options as tests write them: designated initializers cannot name
// the tracer's fields (ExtractorOptions extends TracerOptions), so these add
// them.
//
//   InstrumentInPlace(m, Quiet({.return_nodes = {"fc"}, .mode = Mode::kTap}));
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "plugin/options.h"

namespace featx::testing {

// Without the train/eval difference warning.
inline ExtractorOptions Quiet(ExtractorOptions options) {
  options.suppress_diff_warning = true;
  return options;
}

inline ExtractorOptions WithLeaves(ExtractorOptions options, std::vector<std::string> leaf_modules) {
  options.leaf_modules = std::move(leaf_modules);
  return options;
}

}  // namespace featx::testing
