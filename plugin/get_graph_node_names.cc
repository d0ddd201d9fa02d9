// featx::GetGraphNodeNames (plugin/featx.h): featx's naming passes.
#include "plugin/featx.h"
#include "plugin/pass_registry.h"
#include "plugin/pipeline.h"
#include "plugin/status.h"

namespace featx {

absl::StatusOr<NodeNames> GetGraphNodeNames(const torch::jit::Module& module, const TracerOptions& options) {
  return TorchCall([&]() -> absl::StatusOr<NodeNames> {
    ExtractorOptions start;
    start.leaf_modules = options.leaf_modules;
    FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, Rewrite::Start(module, start));
    FEATX_RETURN_IF_ERROR(RunPasses(NamingPipeline(options), rewrite));
    return NodeNames{rewrite.train->named.Names(), rewrite.eval->named.Names()};
  });
}

}  // namespace featx
