// featx::GetGraphNodeNames on a TorchScript model (resnet50 by default).
// vs_torchvision.sh runs this beside torchvision's get_graph_node_names
// on the same architecture and prints the ratio.
//
//   bazel run //bench:names_bench -- --model=path/to/model.pt
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <torch/csrc/jit/serialization/import.h>

#include "plugin/featx.h"

namespace {

std::string model_path = "tests/models/resnet50.pt";

void BM_GetGraphNodeNames(benchmark::State& state) {
  torch::jit::Module model = torch::jit::load(model_path);
  size_t names = 0;
  for (auto _ : state) {
    absl::StatusOr<featx::NodeNames> result = featx::GetGraphNodeNames(model, {.suppress_diff_warning = true});
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    names = result->eval.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["eval_names"] = static_cast<double>(names);
}
BENCHMARK(BM_GetGraphNodeNames)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model=", 8) == 0) model_path = argv[i] + 8;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
