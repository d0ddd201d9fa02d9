// featx extract: run a model once, rewritten in any mode, and save the chosen
// activations as {name: Tensor}.
#include <cstdio>
#include <string>

#include <torch/csrc/jit/runtime/graph_executor.h>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "plugin/status.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/model_io.h"
#include "tools/cli/rewrite_options.h"
#include "tools/model_files.h"

namespace featx::cli {

absl::Status ExtractCommand() {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) return absl::InvalidArgumentError("give --output=F.pt, where the activations are written");
  FEATX_ASSIGN_OR_RETURN(ExtractorOptions options, ExtractorOptionsFromFlags());
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module module, LoadModel(absl::GetFlag(FLAGS_model)));
  FEATX_ASSIGN_OR_RETURN(at::Tensor input, LoadTensor(absl::GetFlag(FLAGS_input)));
  module.eval();
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(module, options, &manifest));
  // One request: the graph executor's optimizations (profiling, fusion)
  // pay off over many, and on a first run they cost more than the model's
  // own work, more than linearly in its size (a 30k-node model: 12-34 s).
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  FEATX_ASSIGN_OR_RETURN(Extraction got, RunExtractor(module, manifest, {input}));
  FEATX_RETURN_IF_ERROR(SavePickle(output, got.activations));
  for (const auto& item : got.activations) {
    std::printf("%s\t[%s]\n", item.key().c_str(), absl::StrJoin(item.value().sizes(), ", ").c_str());
  }
  std::printf("wrote %zu activations to %s\n", got.activations.size(), output.c_str());
  return absl::OkStatus();
}

}  // namespace featx::cli
