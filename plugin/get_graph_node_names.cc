// featx::GetGraphNodeNames (plugin/featx.h): featx's naming passes.
#include "plugin/featx.h"
#include "plugin/pipeline/trace.h"
#include "plugin/status.h"

namespace featx {

absl::StatusOr<NodeNames> GetGraphNodeNames(const torch::jit::Module& module, const TracerOptions& options) {
  FEATX_ASSIGN_OR_RETURN(TrainAndEval both, TraceTrainAndEval(module, options));
  return NodeNames{both.train.Names(), both.eval.Names()};
}

}  // namespace featx
