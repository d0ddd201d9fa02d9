// Dict-mode feature extraction on resnet50, side by side in one run:
// rewrite time, and forward time of extractors against the plain model.
//   bazel run //bench:extract_bench
// prints Google Benchmark's table, then the ratios.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <torch/csrc/jit/serialization/import.h>
#include <torch/torch.h>

#include "plugin/featx.h"

namespace {

std::string model_path = "tests/models/resnet50.pt";
std::map<std::string, double> seconds;  // benchmark name -> real time per iteration

torch::jit::Module& Model() {
  static torch::jit::Module model = torch::jit::load(model_path);
  return model;
}

at::Tensor Input() { return torch::randn({1, 3, 128, 128}); }

void RunForward(benchmark::State& state, torch::jit::Module& module) {
  torch::NoGradGuard no_grad;
  at::Tensor x = Input();
  for (int i = 0; i < 3; ++i) module.forward({x});  // profiling executor warm-up
  for (auto _ : state) benchmark::DoNotOptimize(module.forward({x}));
}

void BM_PlainForward(benchmark::State& state) { RunForward(state, Model()); }

void BM_DictLastNodeForward(benchmark::State& state) {
  torch::jit::Module extractor = *featx::CreateFeatureExtractor(Model(), {.return_nodes = {"fc"}});
  RunForward(state, extractor);
}

void BM_DictLayer1Forward(benchmark::State& state) {
  torch::jit::Module extractor = *featx::CreateFeatureExtractor(Model(), {.return_nodes = {"layer1"}});
  RunForward(state, extractor);
}

void BM_CreateFeatureExtractor(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(featx::CreateFeatureExtractor(Model(), {.return_nodes = {"layer1", "layer3", "fc"}}));
  }
}

BENCHMARK(BM_PlainForward)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DictLastNodeForward)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DictLayer1Forward)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_CreateFeatureExtractor)->Unit(benchmark::kMillisecond);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const std::string name = run.benchmark_name();
      seconds[name.substr(0, name.find('/'))] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model=", 8) == 0) model_path = argv[i] + 8;
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double plain = seconds["BM_PlainForward"];
  if (plain > 0) {
    std::printf("\nresnet50, 1x3x128x128, this machine, one run:\n");
    std::printf("  dict extractor of the last node (fc) / plain forward: %.3fx\n",
                seconds["BM_DictLastNodeForward"] / plain);
    std::printf("  dict extractor of layer1 / plain forward:             %.3fx\n",
                seconds["BM_DictLayer1Forward"] / plain);
    std::printf("  CreateFeatureExtractor(layer1, layer3, fc):           %.1f ms\n",
                seconds["BM_CreateFeatureExtractor"]);
  }
  benchmark::Shutdown();
  return 0;
}
