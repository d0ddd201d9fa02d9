// `featx`: the command line (DESIGN.md section 7).
//
//   featx demo      runs the main job on the embedded default model
//
// Errors go to stderr with a non-zero exit; torch's exceptions never escape.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/capture.h"
#include "tools/default_model.h"

namespace featx {
namespace {

constexpr char kUsage[] = R"(featx: tagged intermediate activations from TorchScript models.

usage: featx <command> [flags]

commands:
  demo      run the main job on the embedded default model
  help      show this text

Run `featx --helpfull` for every flag.)";

// Median wall time of `fn` in microseconds over `reps` calls, after a warm-up.
template <typename Fn>
double MedianMicros(int reps, Fn&& fn) {
  fn();
  std::vector<double> times;
  times.reserve(reps);
  for (int i = 0; i < reps; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  return times[reps / 2];
}

std::string Shape(const at::Tensor& t) { return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]"); }

void PrintModules(const torch::jit::Module& model) {
  std::printf("Modules of the default model (path, TorchScript class):\n");
  for (const torch::jit::NameModule& child : model.named_modules()) {
    if (child.name.empty()) continue;
    std::printf("  %-22s %s\n", child.name.c_str(), child.value.type()->name()->qualifiedName().c_str());
  }
}

int RunDemo() {
  torch::NoGradGuard no_grad;
  torch::jit::Module model = MakeDefaultModel();
  const at::Tensor input = DefaultModelInput();
  std::printf("featx demo: the embedded default model (%s), input %s\n\n",
              model.type()->name()->qualifiedName().c_str(), Shape(input).c_str());
  PrintModules(model);

  at::Tensor output = model.forward({input}).toTensor();
  const double forward_us = MedianMicros(30, [&] { model.forward({input}); });
  std::printf("\nForward: output %s, %.0f us per request (median of 30)\n", Shape(output).c_str(), forward_us);

  // The tap op on its own: what a tapped model pays per tap, with and
  // without a capture open.
  auto tap = c10::Dispatcher::singleton()
                 .findSchemaOrThrow("featx::tap", "")
                 .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  constexpr int kCalls = 10000;
  const double idle_us = MedianMicros(5,
                                      [&] {
                                        for (int i = 0; i < kCalls; ++i) tap.call(output, "logits");
                                      }) /
                         kCalls;
  Activations captured;
  const double open_us = MedianMicros(5,
                                      [&] {
                                        Capture capture;
                                        for (int i = 0; i < kCalls; ++i) tap.call(output, "logits");
                                        captured = capture.Take();
                                      }) /
                         kCalls;
  std::printf("featx::tap: %.3f us per call with no capture open, %.3f us with one open\n", idle_us, open_us);
  std::printf("Captured in the last request: %zu tag(s); \"logits\" %s equals the model output: %s\n", captured.size(),
              Shape(captured.at("logits")).c_str(), captured.at("logits").equal(output) ? "yes" : "no");
  return 0;
}

int Run(const std::vector<char*>& args) {
  const std::string command = args.size() > 1 ? args[1] : "help";
  if (command == "help") {
    std::printf("%s\n", kUsage);
    return 0;
  }
  if (command == "demo") return RunDemo();
  std::fprintf(stderr, "featx: unknown command '%s'\n\n%s\n", command.c_str(), kUsage);
  return 2;
}

}  // namespace
}  // namespace featx

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(featx::kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  try {
    return featx::Run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featx: %s\n", e.what());
    return 1;
  }
}
