// featx demo: the main job on the embedded default model, no files needed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/pipeline/trace.h"
#include "plugin/run_extractor.h"
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

// Median wall time in microseconds of each of `fns`, run in turn `reps`
// times, so that drift in machine load affects them alike.
std::vector<double> InterleavedMedianMicros(int reps, const std::vector<std::function<void()>>& fns) {
  std::vector<std::vector<double>> times(fns.size());
  for (int i = 0; i < reps; ++i) {
    for (size_t f = 0; f < fns.size(); ++f) {
      auto start = std::chrono::steady_clock::now();
      fns[f]();
      times[f].push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::vector<double> medians;
  for (std::vector<double>& t : times) {
    std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
    medians.push_back(t[reps / 2]);
  }
  return medians;
}

std::string Shape(const at::Tensor& t) { return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]"); }

absl::Status ShowNames(const torch::jit::Module& model, const at::Tensor& input) {
  double names_us = 0;
  NodeNames names;
  names_us = MedianMicros(5, [&] { names = *GetGraphNodeNames(model, {.suppress_diff_warning = true}); });
  std::printf("1. Node names, as torchvision's get_graph_node_names gives them (%zu in eval mode, %.0f us):\n\n",
              names.eval.size(), names_us);
  FEATX_ASSIGN_OR_RETURN(NamedGraph eval, TraceNamedGraph(model, {}, /*training=*/false));
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

// The nodes the demo extracts: a block's output, a value the in-place ReLU
// after it overwrites (featx emits it as it was), and the logits.
const std::vector<std::string> kDemoNodes = {"layer1", "layer2.0.bn1", "fc:logits"};

int CountClones(const torch::jit::Module& m) {
  int clones = 0;
  for (const torch::jit::Node* n : m.get_method("forward").graph()->nodes()) clones += n->kind() == c10::aten::clone;
  return clones;
}

absl::Status ShowDictExtraction(const torch::jit::Module& model, const at::Tensor& input, Activations* dict_values) {
  OutputManifest manifest;
  absl::StatusOr<torch::jit::Module> extractor;
  const double rewrite_us = MedianMicros(5, [&] {
    extractor = CreateFeatureExtractor(model, {.return_nodes = kDemoNodes, .mode = Mode::kDict}, &manifest);
  });
  FEATX_RETURN_IF_ERROR(extractor.status());
  FEATX_ASSIGN_OR_RETURN(Extraction got, RunExtractor(*extractor, manifest, {input}));
  std::printf(
      "\n2. Dict mode, as torchvision's create_feature_extractor: return_nodes=%s, rewritten in %.0f us;\n"
      "   forward returns\n\n",
      absl::StrJoin(kDemoNodes, ",").c_str(), rewrite_us);
  for (size_t i = 0; i < manifest.eval.size(); ++i) {
    std::printf("   %-13s %-16s from node %s\n", manifest.eval[i].name.c_str(),
                Shape(got.activations.at(manifest.eval[i].name)).c_str(), manifest.eval[i].node.c_str());
  }
  std::printf(
      "\n   layer2.0.bn1 is overwritten by the in-place ReLU after it; featx returns it as it was at its node\n"
      "   (%d clone in the graph, where alias analysis found the write; min %.3f, torchvision's would be >= 0).\n"
      "   The graph is pruned after the last chosen node (fc).\n",
      CountClones(*extractor), got.activations.at("layer2.0.bn1").min().item<float>());
  *dict_values = got.activations;
  return absl::OkStatus();
}

absl::Status ShowTapCapture(const torch::jit::Module& model, const at::Tensor& input, const Activations& dict_values) {
  torch::NoGradGuard no_grad;
  torch::jit::Module plain = model.clone();
  torch::jit::Module served = model.clone();
  const at::Tensor plain_output = plain.forward({input}).toTensor();
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(served, {.return_nodes = kDemoNodes, .mode = Mode::kTap}, &manifest));
  FEATX_ASSIGN_OR_RETURN(Extraction got, RunExtractor(served, manifest, {input}));
  bool same_values = got.activations.size() == dict_values.size();
  for (const auto& item : dict_values) {
    same_values =
        same_values && got.activations.contains(item.key()) && got.activations.at(item.key()).equal(item.value());
  }
  std::printf(
      "\n3. Tap mode, as a server runs it: the model rewritten in place, its output unchanged (%s), and a\n"
      "   capture around the request holds the same activations as dict mode (%s):\n  ",
      got.model_output.toTensor().equal(plain_output) ? "equal" : "DIFFERENT", same_values ? "equal" : "DIFFERENT");
  for (const auto& item : got.activations) std::printf(" %s %s", item.key().c_str(), Shape(item.value()).c_str());
  std::printf("\n");
  if (!same_values || !got.model_output.toTensor().equal(plain_output)) {
    return absl::InternalError("tap mode disagreed with dict mode or changed the output");
  }

  // Warm the graph executor (it profiles, then optimizes) before timing.
  for (int i = 0; i < 5; ++i) plain.forward({input}), served.forward({input});
  const std::vector<double> us =
      InterleavedMedianMicros(50, {[&] { plain.forward({input}); }, [&] { served.forward({input}); },
                                   [&] {
                                     Capture capture;
                                     served.forward({input});
                                   }});
  const double plain_us = us[0], idle_us = us[1], capture_us = us[2];
  std::printf(
      "\n4. Timings (median of 50 requests): plain model %.0f us; tap mode, no capture %.0f us (%.2fx); with a\n"
      "   capture open %.0f us (%.2fx). Benchmarks with more models: bazel run //bench:extract_bench.\n",
      plain_us, idle_us, idle_us / plain_us, capture_us, capture_us / plain_us);
  return absl::OkStatus();
}

}  // namespace

absl::Status DemoCommand() {
  torch::jit::Module model = MakeDefaultModel();
  const at::Tensor input = DefaultModelInput();
  std::printf("featx demo: the embedded default model (%s, a small ResNet built in C++), input %s\n\n",
              PythonClassName(*model.type()).c_str(), Shape(input).c_str());
  FEATX_RETURN_IF_ERROR(ShowNames(model, input));
  Activations dict_values;
  FEATX_RETURN_IF_ERROR(ShowDictExtraction(model, input, &dict_values));
  return ShowTapCapture(model, input, dict_values);
}

}  // namespace featx::cli
