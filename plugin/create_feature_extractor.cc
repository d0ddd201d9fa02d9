// featx::CreateFeatureExtractor and featx::InstrumentInPlace (plugin/featx.h):
// the load-time pipeline (plugin/pipeline/pipeline.h), run on copies, then given to a
// new module (plugin/pipeline/install_forward.h).
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/featx.h"
#include "plugin/pipeline/install_forward.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/pipeline/pipeline.h"
#include "plugin/status.h"

namespace featx {
namespace {

// Everything is built on copies: an error leaves the module as it was.
absl::StatusOr<Rewrite> RunLoadTimePipeline(const torch::jit::Module& module, const ExtractorOptions& options) {
  FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, Rewrite::Start(module, options));
  FEATX_RETURN_IF_ERROR(RunPasses(options.passes.empty() ? LoadTimePipeline(options) : options.passes, rewrite));
  if (rewrite.stage != Stage::kMerged) {
    return absl::FailedPreconditionError(
        absl::StrCat("the passes stop at ", StageDescription(rewrite.stage), " (after ", rewrite.passes_run.back(),
                     "); a forward can be installed only once featx.merge_train_eval has run"));
  }
  return rewrite;
}

}  // namespace

// Nothing thrown leaves the public API (featx.h): TorchCall turns it into a
// status.
absl::Status InstrumentInPlace(torch::jit::Module& module, const ExtractorOptions& options, OutputManifest* manifest) {
  return TorchCall([&]() -> absl::Status {
    FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, RunLoadTimePipeline(module, options));
    FEATX_ASSIGN_OR_RETURN(torch::jit::Module rewritten, WithForward(module, rewrite.forward));
    // The swap is the last step and cannot fail: on any error above `module`
    // still names the model as it was. The old object is never changed, so
    // requests running on it finish as they began.
    module = std::move(rewritten);
    if (manifest != nullptr) *manifest = std::move(rewrite.manifest);
    return absl::OkStatus();
  });
}

absl::StatusOr<torch::jit::Module> CreateFeatureExtractor(const torch::jit::Module& module,
                                                          const ExtractorOptions& options, OutputManifest* manifest) {
  return TorchCall([&]() -> absl::StatusOr<torch::jit::Module> {
    FEATX_ASSIGN_OR_RETURN(Rewrite rewrite, RunLoadTimePipeline(module, options));
    FEATX_ASSIGN_OR_RETURN(torch::jit::Module extractor, WithForward(module, rewrite.forward));
    if (manifest != nullptr) *manifest = std::move(rewrite.manifest);
    return extractor;
  });
}

}  // namespace featx
