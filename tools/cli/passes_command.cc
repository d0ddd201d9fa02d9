// featx passes: what a host can name in --featx_passes or run through
// featx::RunPasses, and the order featx itself runs them in.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "plugin/options.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/pipeline/pipeline.h"
#include "tools/cli/commands.h"

namespace featx::cli {

absl::Status PassesCommand() {
  std::printf("registered passes (stage it runs at -> stage it leaves):\n");
  for (const PassInfo& pass : ListPasses()) {
    std::string only;
    if (pass.only_mode.has_value()) only = " [" + std::string(ModeName(*pass.only_mode)) + " mode]";
    std::printf("  %-30s %s%s\n      %s -> %s\n", pass.name.c_str(), pass.summary.c_str(), only.c_str(),
                std::string(StageDescription(pass.runs_at)).c_str(),
                std::string(StageDescription(pass.leaves_at)).c_str());
  }
  std::printf("\nload-time pipeline by mode (what featx_instrument and featx rewrite run):\n");
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    ExtractorOptions options;
    options.mode = mode;
    std::printf("  %-5s --featx_passes=%s\n", std::string(ModeName(mode)).c_str(),
                absl::StrJoin(LoadTimePipeline(options), ",").c_str());
  }
  return absl::OkStatus();
}

}  // namespace featx::cli
