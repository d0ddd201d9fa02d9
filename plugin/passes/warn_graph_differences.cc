// featx.warn_graph_differences: torchvision's warning, through the host's
// logging (TORCH_WARN), when the train-mode and eval-mode names differ.
// Dropped from the pipeline by suppress_diff_warning.
#include "absl/status/status.h"
#include "plugin/naming/graph_diff_warning.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

absl::Status WarnGraphDifferencesStep(Rewrite& rewrite) {
  if (rewrite.ModesShared()) return absl::OkStatus();  // one graph: nothing differs
  WarnIfModesDiffer(rewrite.train->named.Names(), rewrite.eval->named.Names());
  return absl::OkStatus();
}

const PassRegistration kRegistration(
    {{"featx.warn_graph_differences",
      "torchvision's warning, through the host's logging, when train and eval names differ", Stage::kNamed,
      Stage::kNamed},
     WarnGraphDifferencesStep});

}  // namespace
}  // namespace featx
