#include "plugin/named_graph.h"

#include "plugin/pass_registry.h"
#include "plugin/pipeline.h"
#include "plugin/status.h"

namespace featx {

absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module,
                                               const std::vector<std::string>& leaf_modules) {
  ExtractorOptions options;
  options.leaf_modules = leaf_modules;
  FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, Rewrite::Start(module, options));
  FEATX_RETURN_IF_ERROR(RunPasses(NamingPipeline({leaf_modules, /*suppress_diff_warning=*/true}), rewrite));
  return TrainAndEval{rewrite.train->named, rewrite.eval->named};
}

absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module,
                                           const std::vector<std::string>& leaf_modules, bool training) {
  FEATX_ASSIGN_OR_RETURN(TrainAndEval both, TraceTrainAndEval(module, leaf_modules));
  return training ? both.train : both.eval;
}

}  // namespace featx
