// featx demo: the main job on the embedded default model, no files needed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/leaf_modules.h"
#include "plugin/named_graph.h"
#include "plugin/status.h"
#include "tools/cli/commands.h"
#include "tools/cli/names_format.h"
#include "tools/cli/node_shapes.h"
#include "tools/default_model.h"

namespace featx::cli {
namespace {

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

absl::Status ShowNames(const torch::jit::Module& model, const at::Tensor& input) {
  double names_us = 0;
  NodeNames names;
  names_us = MedianMicros(5, [&] { names = *GetGraphNodeNames(model, {.suppress_diff_warning = true}); });
  std::printf("1. Node names, as torchvision's get_graph_node_names gives them (%zu in eval mode, %.0f us):\n\n",
              names.eval.size(), names_us);
  FEATX_ASSIGN_OR_RETURN(LeafModules leaves, LeafModules::Create(model, {}));
  FEATX_ASSIGN_OR_RETURN(NamedGraph eval, TraceNamedGraph(model, leaves, /*training=*/false));
  FEATX_ASSIGN_OR_RETURN(std::vector<std::string> shapes, EvalNodeShapes(model, std::move(eval), input));
  std::string table = NamesWithDetails(names.eval, shapes);
  std::string indented;
  for (absl::string_view line : absl::StrSplit(table, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&indented, "   ", line, "\n");
  }
  std::fputs(indented.c_str(), stdout);
  if (names.train != names.eval) {
    std::printf("\n   In train mode the list differs: %zu names.\n", names.train.size());
  }
  return absl::OkStatus();
}

absl::Status ShowTapCost(torch::jit::Module& model, const at::Tensor& input) {
  torch::NoGradGuard no_grad;
  at::Tensor output = model.forward({input}).toTensor();
  const double forward_us = MedianMicros(20, [&] { model.forward({input}); });
  auto tap = c10::Dispatcher::singleton()
                 .findSchemaOrThrow("featx::tap", "")
                 .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  constexpr int kCalls = 10000;
  const double idle_us = MedianMicros(5,
                                      [&] {
                                        for (int i = 0; i < kCalls; ++i) tap.call(output, "logits");
                                      }) /
                         kCalls;
  const double open_us = MedianMicros(5,
                                      [&] {
                                        Capture capture;
                                        for (int i = 0; i < kCalls; ++i) tap.call(output, "logits");
                                      }) /
                         kCalls;
  std::printf(
      "\n2. One request: output %s in %.0f us. featx::tap costs %.3f us with no capture open, %.3f us "
      "with one open.\n",
      Shape(output).c_str(), forward_us, idle_us, open_us);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunDemo() {
  torch::jit::Module model = MakeDefaultModel();
  const at::Tensor input = DefaultModelInput();
  std::printf("featx demo: the embedded default model (%s, a small ResNet built in C++), input %s\n\n",
              PythonClassName(*model.type()).c_str(), Shape(input).c_str());
  FEATX_RETURN_IF_ERROR(ShowNames(model, input));
  return ShowTapCost(model, input);
}

}  // namespace featx::cli
