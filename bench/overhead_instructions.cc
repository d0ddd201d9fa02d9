// The cost of featx's rewritten model per request, in instructions: run under
// callgrind by overhead_instructions.sh, which prints the ratios. Timing on
// these shared VMs moves by ~3% between identical runs and they have no
// hardware counters; callgrind's instruction counts repeat exactly, so a
// ratio of 1.004 means 0.4%.
//
// Each variant is built, warmed up (the graph executor profiles, then
// optimizes), and then only its measured requests are collected, into a dump
// of their own named after the variant:
//   valgrind --tool=callgrind --collect-atstart=no overhead_instructions --model=resnet50.pt
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "ops/capture.h"
#include "plugin/featx.h"

ABSL_FLAG(std::string, model, "tests/models/resnet50.pt", "TorchScript model");
ABSL_FLAG(int, requests, 3, "measured requests per variant");
ABSL_FLAG(int, warmup, 4, "requests before measuring (the executor optimizes after its profiling runs)");

namespace {

using Request = std::function<void(torch::jit::Module&, const at::Tensor&)>;

void Forward(torch::jit::Module& m, const at::Tensor& x) { m.forward({x}); }

// The plain model runs inside a capture too when the tapped one does, so the
// ratio is the taps' own cost.
void ForwardInCapture(torch::jit::Module& m, const at::Tensor& x) {
  featx::Capture capture;
  m.forward({x});
  capture.Take();
}

// `count` nodes spread evenly over the eval graph, first and last included.
std::vector<std::string> SpreadNodes(const torch::jit::Module& model, int count) {
  const std::vector<std::string> names = featx::GetGraphNodeNames(model)->eval;
  std::vector<std::string> chosen;
  for (int i = 0; i < count; ++i) chosen.push_back(names[i * (names.size() - 1) / (count - 1)]);
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

torch::jit::Module Rewritten(const torch::jit::Module& model, std::vector<std::string> nodes, featx::Mode mode) {
  absl::StatusOr<torch::jit::Module> rewritten =
      featx::CreateFeatureExtractor(model, {.return_nodes = std::move(nodes), .mode = mode});
  if (!rewritten.ok()) {
    std::fprintf(stderr, "overhead_instructions: %s\n", std::string(rewritten.status().message()).c_str());
    std::exit(1);
  }
  return *rewritten;
}

void Measure(const std::string& name, torch::jit::Module module, const Request& request, const at::Tensor& x) {
  module.eval();
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) request(module, x);
  CALLGRIND_ZERO_STATS;
  CALLGRIND_TOGGLE_COLLECT;
  for (int i = 0; i < absl::GetFlag(FLAGS_requests); ++i) request(module, x);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(name.c_str());
  std::printf("measured %s\n", name.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  at::set_num_threads(1);
  torch::NoGradGuard no_grad;
  torch::jit::Module model = torch::jit::load(absl::GetFlag(FLAGS_model));
  model.eval();
  torch::manual_seed(0);
  const at::Tensor x = torch::randn({1, 3, 128, 128});
  const std::vector<std::string> all = featx::GetGraphNodeNames(model)->eval;

  Measure("plain", model.clone(), Forward, x);
  Measure("dict_last_node", Rewritten(model, {all.back()}, featx::Mode::kDict), Forward, x);
  Measure("dict_5_nodes", Rewritten(model, SpreadNodes(model, 5), featx::Mode::kDict), Forward, x);
  const torch::jit::Module tapped = Rewritten(model, SpreadNodes(model, 20), featx::Mode::kTap);
  Measure("tap_20_no_capture", tapped, Forward, x);
  Measure("plain_in_capture", model.clone(), ForwardInCapture, x);
  Measure("tap_20_capture", tapped, ForwardInCapture, x);
  return 0;
}
