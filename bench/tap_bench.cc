// What a tap costs per call, side by side with the cheapest op the JIT could
// run in its place (aten::alias, an identity view). docs/design.md: with no
// capture open a tap must cost well under a microsecond.
//
//   bazel run //bench:tap_bench
#include <benchmark/benchmark.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/script.h>

#include "ops/capture.h"

namespace {

auto TapOp() {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow("featx::tap", "")
      .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
}

void BM_AliasBaseline(benchmark::State& state) {
  at::Tensor x = torch::randn({1, 64, 56, 56});
  for (auto _ : state) benchmark::DoNotOptimize(at::alias(x));
}
BENCHMARK(BM_AliasBaseline);

void BM_TapNoCapture(benchmark::State& state) {
  auto tap = TapOp();
  at::Tensor x = torch::randn({1, 64, 56, 56});
  for (auto _ : state) benchmark::DoNotOptimize(tap.call(x, "layer1.0.relu_1"));
}
BENCHMARK(BM_TapNoCapture);

void BM_TapIntoOpenCapture(benchmark::State& state) {
  auto tap = TapOp();
  at::Tensor x = torch::randn({1, 64, 56, 56});
  featx::Capture capture;
  for (auto _ : state) benchmark::DoNotOptimize(tap.call(x, "layer1.0.relu_1"));
}
BENCHMARK(BM_TapIntoOpenCapture);

// A whole request's capture: open, 20 distinct tags, take.
void BM_CaptureOf20Tags(benchmark::State& state) {
  auto tap = TapOp();
  at::Tensor x = torch::randn({1, 64, 56, 56});
  std::vector<std::string> tags;
  for (int i = 0; i < 20; ++i) tags.push_back("node_" + std::to_string(i));
  for (auto _ : state) {
    featx::Capture capture;
    for (const std::string& tag : tags) tap.call(x, tag);
    benchmark::DoNotOptimize(capture.Take());
  }
}
BENCHMARK(BM_CaptureOf20Tags);

}  // namespace

BENCHMARK_MAIN();
