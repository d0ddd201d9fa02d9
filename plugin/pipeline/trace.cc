#include "plugin/pipeline/trace.h"

#include "plugin/pipeline/pass_registry.h"
#include "plugin/pipeline/pipeline.h"
#include "plugin/status.h"

namespace featx {

absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module, const TracerOptions& options) {
  return TorchCall([&]() -> absl::StatusOr<TrainAndEval> {
    FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, Rewrite::Start(module, ExtractorOptions{options}));
    FEATX_RETURN_IF_ERROR(RunPasses(NamingPipeline(options), rewrite));
    return TrainAndEval{rewrite.train->named, rewrite.eval->named};
  });
}

absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module,
                                           const std::vector<std::string>& leaf_modules, bool training) {
  FEATX_ASSIGN_OR_RETURN(TrainAndEval both,
                         TraceTrainAndEval(module, {.leaf_modules = leaf_modules, .suppress_diff_warning = true}));
  return training ? both.train : both.eval;
}

}  // namespace featx
