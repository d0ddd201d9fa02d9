// Feature extraction on resnet50 (1x3x128x128), side by side in one run:
// each comparison alternates the plain model and the rewritten one request by
// request, so drift in machine load hits both alike, and reports the ratio of
// their medians, in wall time and in instructions retired (which a noisy
// machine does not move: a few percent of difference is visible only there).
//   bazel run //bench:extract_bench
// prints Google Benchmark's table (ratios as counters), then a summary.
#include <benchmark/benchmark.h>

#include <time.h>
#include <algorithm>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include "absl/strings/str_split.h"
#include "bench/instruction_counter.h"
#include "ops/capture.h"
#include "plugin/featx.h"

namespace {

std::string model_path = "tests/models/resnet50.pt";
// BM_CreateFeatureExtractor's choice (vs_torchvision.sh passes each model's).
std::vector<std::string> extract_nodes = {"layer1", "layer3", "fc"};
std::map<std::string, double> ratios;              // comparison -> rewritten / plain, median time
std::map<std::string, double> instruction_ratios;  // the same in instructions retired
std::map<std::string, double> millis;              // benchmark -> ms per call

torch::jit::Module& Model() {
  static torch::jit::Module model = torch::jit::load(model_path);
  return model;
}

at::Tensor Input() { return torch::randn({1, 3, 128, 128}); }

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

double ThreadCpuMs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct Cost {
  double ms;
  double instructions;
};

Cost Measure(InstructionCounter& counter, const std::function<void()>& fn) {
  if (counter.ok()) counter.Start();
  // The thread's CPU time: with one intra-op thread it is the request's
  // work, without the time the thread waited to be scheduled.
  const double start = ThreadCpuMs();
  fn();
  const double ms = ThreadCpuMs() - start;
  return {ms, counter.ok() ? static_cast<double>(counter.Stop()) : 0.0};
}

// One request of the plain model, then one of `rewritten` (order swapped
// every round), per benchmark iteration.
void Compare(benchmark::State& state, const std::string& name, torch::jit::Module rewritten,
             const std::function<void(torch::jit::Module&, const at::Tensor&)>& request) {
  torch::NoGradGuard no_grad;
  torch::jit::Module plain = Model().clone();
  const at::Tensor x = Input();
  for (int i = 0; i < 3; ++i) request(plain, x), request(rewritten, x);  // the executor profiles, then optimizes
  InstructionCounter counter;
  std::vector<double> plain_ms, rewritten_ms, plain_ins, rewritten_ins;
  auto run = [&](torch::jit::Module& m, std::vector<double>& ms, std::vector<double>& ins) {
    const Cost cost = Measure(counter, [&] { request(m, x); });
    ms.push_back(cost.ms);
    ins.push_back(cost.instructions);
  };
  bool plain_first = true;
  for (auto _ : state) {
    if (plain_first) run(plain, plain_ms, plain_ins);
    run(rewritten, rewritten_ms, rewritten_ins);
    if (!plain_first) run(plain, plain_ms, plain_ins);
    plain_first = !plain_first;
  }
  ratios[name] = Median(rewritten_ms) / Median(plain_ms);
  state.counters["plain_ms"] = Median(plain_ms);
  state.counters["rewritten_ms"] = Median(rewritten_ms);
  state.counters["ratio"] = ratios[name];
  if (counter.ok()) {
    instruction_ratios[name] = Median(rewritten_ins) / Median(plain_ins);
    state.counters["instr_ratio"] = instruction_ratios[name];
  }
}

void Forward(torch::jit::Module& m, const at::Tensor& x) { benchmark::DoNotOptimize(m.forward({x})); }

void ForwardInCapture(torch::jit::Module& m, const at::Tensor& x) {
  featx::Capture capture;
  benchmark::DoNotOptimize(m.forward({x}));
  benchmark::DoNotOptimize(capture.Take());
}

featx::ExtractorOptions Options(std::vector<std::string> nodes, featx::Mode mode) {
  featx::ExtractorOptions options;
  options.return_nodes = std::move(nodes);
  options.mode = mode;
  return options;
}

// 20 nodes spread evenly over the eval graph, first and last included.
std::vector<std::string> TwentyNodes() {
  const std::vector<std::string> names = featx::GetGraphNodeNames(Model())->eval;
  std::vector<std::string> chosen;
  for (int i = 0; i < 20; ++i) chosen.push_back(names[i * (names.size() - 1) / 19]);
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

// The same model on both sides: how far apart two identical runs land on
// this machine, the yardstick for the ratios below.
void BM_Plain_vs_Plain(benchmark::State& state) {
  Compare(state, "plain model (noise floor)", Model().clone(), Forward);
}

void BM_DictLastNode_vs_Plain(benchmark::State& state) {
  Compare(state, "dict extractor of the last node (fc)",
          *featx::CreateFeatureExtractor(Model(), Options({"fc"}, featx::Mode::kDict)), Forward);
}

void BM_DictLayer1_vs_Plain(benchmark::State& state) {
  Compare(state, "dict extractor of layer1 (pruned)",
          *featx::CreateFeatureExtractor(Model(), Options({"layer1"}, featx::Mode::kDict)), Forward);
}

void BM_Tap20NoCapture_vs_Plain(benchmark::State& state) {
  Compare(state, "tap mode, 20 nodes, no capture open",
          *featx::CreateFeatureExtractor(Model(), Options(TwentyNodes(), featx::Mode::kTap)), Forward);
}

void BM_Tap20Capture_vs_Plain(benchmark::State& state) {
  torch::jit::Module tapped = *featx::CreateFeatureExtractor(Model(), Options(TwentyNodes(), featx::Mode::kTap));
  // The plain model runs in a capture too, so the ratio is the taps' cost.
  Compare(state, "tap mode, 20 nodes, capture open", tapped, ForwardInCapture);
}

void BM_CreateFeatureExtractor(benchmark::State& state) {
  torch::jit::Module& model = Model();  // loading is not part of the rewrite
  const featx::ExtractorOptions options = Options(extract_nodes, featx::Mode::kDict);
  benchmark::DoNotOptimize(featx::CreateFeatureExtractor(model, options));  // warm-up, as torchvision's timing has
  for (auto _ : state) benchmark::DoNotOptimize(featx::CreateFeatureExtractor(model, options));
}

BENCHMARK(BM_Plain_vs_Plain)->Unit(benchmark::kMillisecond)->Iterations(60);
BENCHMARK(BM_DictLastNode_vs_Plain)->Unit(benchmark::kMillisecond)->Iterations(60);
BENCHMARK(BM_DictLayer1_vs_Plain)->Unit(benchmark::kMillisecond)->Iterations(30);
BENCHMARK(BM_Tap20NoCapture_vs_Plain)->Unit(benchmark::kMillisecond)->Iterations(60);
BENCHMARK(BM_Tap20Capture_vs_Plain)->Unit(benchmark::kMillisecond)->Iterations(60);
BENCHMARK(BM_CreateFeatureExtractor)->Unit(benchmark::kMillisecond)->Iterations(20);

class Reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const std::string name = run.benchmark_name();
      millis[name.substr(0, name.find('/'))] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model=", 8) == 0) model_path = argv[i] + 8;
    if (std::strncmp(argv[i], "--return_nodes=", 15) == 0) extract_nodes = absl::StrSplit(argv[i] + 15, ',');
    json |= std::strcmp(argv[i], "--benchmark_format=json") == 0;
  }
  benchmark::Initialize(&argc, argv);
  // One thread does all the work, so its instruction count is the request's.
  at::set_num_threads(1);
  if (json) {
    // For scripts (vs_torchvision.sh): Google Benchmark's JSON only.
    benchmark::RunSpecifiedBenchmarks();
    return 0;
  }
  Reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf(
      "\nresnet50, 1x3x128x128, one intra-op thread, this machine, one run; rewritten / plain, median request:\n  "
      "(time: thread CPU time)\n");
  std::printf("  %-40s %8s %14s\n", "", "time", "instructions");
  if (instruction_ratios.empty())
    std::printf("  (no instruction counts: this machine has no hardware perf counters)\n");
  for (const auto& [name, ratio] : ratios) {
    std::printf("  %-40s %7.3fx", name.c_str(), ratio);
    if (instruction_ratios.count(name)) std::printf(" %13.4fx", instruction_ratios[name]);
    std::printf("\n");
  }
  if (millis.count("BM_CreateFeatureExtractor")) {
    std::printf("  CreateFeatureExtractor(layer1, layer3, fc)   %.1f ms\n", millis["BM_CreateFeatureExtractor"]);
  }
  benchmark::Shutdown();
  return 0;
}
