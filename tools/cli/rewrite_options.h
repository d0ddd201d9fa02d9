// The extractor options `featx extract` and `featx rewrite` take from their
// flags (--return_nodes, --train_return_nodes, --eval_return_nodes, --mode,
// --featx_leaf_modules, --featx_suppress_diff_warning).
#pragma once

#include "absl/status/statusor.h"
#include "plugin/featx.h"

namespace featx::cli {

[[nodiscard]] absl::StatusOr<ExtractorOptions> ExtractorOptionsFromFlags();

}  // namespace featx::cli
