// featx's configuration flags (abseil flags, all prefixed `featx_`).
//
// A host that links featx gets them on its own command line
// (`--featx_leaf_modules=MyBlock`) and in `--helpfull`.
//
//   absl::ParseCommandLine(argc, argv);
//   featx::TracerOptions options = featx::TracerOptionsFromFlags();
#pragma once

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "plugin/featx.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, featx_leaf_modules);
ABSL_DECLARE_FLAG(bool, featx_suppress_diff_warning);

namespace featx {

TracerOptions TracerOptionsFromFlags();

}  // namespace featx
