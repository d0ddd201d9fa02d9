// The extractor options `featx extract` and `featx rewrite` take from
// featx's flags (--featx_return_nodes or --return_nodes, --featx_mode or
// --mode, --featx_leaf_modules, ...: plugin/host/flags.h).
#pragma once

#include "absl/status/statusor.h"
#include "plugin/featx.h"

namespace featx::cli {

[[nodiscard]] absl::StatusOr<ExtractorOptions> ExtractorOptionsFromFlags();

}  // namespace featx::cli
