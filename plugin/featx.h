// featx: tagged intermediate activations from TorchScript models, with
// torchvision's feature_extraction node names.
//
// The C++ API of the plugin. Every function takes a loaded module, never
// throws (torch's c10::Error becomes an absl::Status with the same message)
// and never changes the module it is given unless its name says so.
//
//   torch::jit::Module model = torch::jit::load("resnet18.pt");
//   absl::StatusOr<featx::NodeNames> names = featx::GetGraphNodeNames(model);
//   if (!names.ok()) { LOG(ERROR) << names.status(); return; }
//   for (const std::string& name : names->eval) std::cout << name << "\n";
//   // x, conv1, bn1, relu, maxpool, layer1.0.conv1, ..., fc
#pragma once

#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace featx {

// How to trace a model into named nodes (torchvision's tracer_kwargs).
struct TracerOptions {
  // Extra leaf module classes, by bare (`MyBlock`) or qualified
  // (`mymodels.MyBlock`) Python class name. Each must occur in the model.
  std::vector<std::string> leaf_modules;
  // Do not warn when train and eval names differ.
  bool suppress_diff_warning = false;
};

// torchvision's get_graph_node_names: the node names of the model as it runs
// in train mode and in eval mode, each in execution order.
struct NodeNames {
  std::vector<std::string> train;
  std::vector<std::string> eval;
};

// Names every node of `module`'s forward as torchvision's NodePathTracer
// would (DESIGN.md section 2). When the train and eval lists differ, warns
// through TORCH_WARN (the host's c10::WarningHandler) with torchvision's
// wording, unless options.suppress_diff_warning.
//
// Errors: InvalidArgument for a module without `forward`, or a leaf module
// class that does not occur in the model (with the closest class names).
[[nodiscard]] absl::StatusOr<NodeNames> GetGraphNodeNames(const torch::jit::Module& module,
                                                          const TracerOptions& options = {});

// What a rewritten forward returns (DESIGN.md section 4).
enum class Mode {
  // Dict[str, Tensor] of the chosen nodes; the graph pruned to what they need.
  kDict,
  // The model's own outputs, then the chosen nodes, as one flat tuple.
  kTuple,
  // The model's own output, unchanged; chosen values pass through featx::tap.
  kTap,
};

// torchvision's create_feature_extractor arguments.
struct ExtractorOptions {
  // Node specs: a node name, or a prefix meaning the last node under it
  // (`layer1`), optionally with an output name (`layer1:feat1`).
  std::vector<std::string> return_nodes;
  // Instead of return_nodes, one choice per mode (both or neither).
  std::vector<std::string> train_return_nodes;
  std::vector<std::string> eval_return_nodes;
  std::vector<std::string> leaf_modules;
  Mode mode = Mode::kDict;
  bool suppress_diff_warning = false;
};

// What a rewritten forward emits, in order, for each training mode: dict
// keys, tuple slots (the model's own outputs first, named `output`,
// `output.0`, ...) or tap tags. Tuple slot i is Triton's `OUTPUT__i`.
struct ManifestEntry {
  // The dict key, tap tag, or tuple slot's name.
  std::string name;
  // The node it comes from (`output` for the model's own outputs).
  std::string node;
};
struct OutputManifest {
  Mode mode = Mode::kDict;
  std::vector<ManifestEntry> train;
  std::vector<ManifestEntry> eval;
};

// The manifest as JSON, e.g. for tuple mode
//   {"mode": "tuple",
//    "eval": [{"index": 0, "triton_name": "OUTPUT__0", "name": "output", "node": "output"},
//             {"index": 1, "triton_name": "OUTPUT__1", "name": "feat1", "node": "layer1.1.relu_1"}],
//    "train": [...]}
std::string ManifestJson(const OutputManifest& manifest);

// "dict", "tuple", "tap".
absl::string_view ModeName(Mode mode);
// The inverse; InvalidArgument (with the closest name) for anything else.
[[nodiscard]] absl::StatusOr<Mode> ParseMode(absl::string_view name);

// A new module whose forward emits the chosen activations (DESIGN.md section
// 4); `module` is not changed. The new one shares its submodules,
// parameters and buffers, as torchvision's does (so `extractor.eval()` also
// sets the submodules' mode), and has forward as its only method. The new
// forward keeps torchvision's dual behaviour: the train choice while the
// module is training, the eval choice otherwise. An activation that a later
// op overwrites in place is emitted as it was at its node. A node inside
// prim::If / prim::Loop may be chosen in dict mode (its key is present when
// the branch ran; a loop gives its last iteration's value) and tap mode.
// `manifest`, when given, receives what the forward emits.
//
// Errors (InvalidArgument): no choice, return_nodes together with
// train/eval_return_nodes, only one of those, an unknown node (with the
// closest names), a duplicate output name, an unknown leaf module class, a
// node that is not one tensor, a node inside control flow in tuple mode, and
// in tuple mode train and eval choices of different lengths or a model
// output that is not tensors.
[[nodiscard]] absl::StatusOr<torch::jit::Module> CreateFeatureExtractor(const torch::jit::Module& module,
                                                                        const ExtractorOptions& options,
                                                                        OutputManifest* manifest = nullptr);

// The same rewrite on `module` itself, as a server does at load time. On any
// error the module is left exactly as it was.
[[nodiscard]] absl::Status InstrumentInPlace(torch::jit::Module& module, const ExtractorOptions& options,
                                             OutputManifest* manifest = nullptr);

}  // namespace featx
