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
#include "plugin/options.h"

namespace featx {

// torchvision's get_graph_node_names: the node names of the model as it runs
// in train mode and in eval mode, each in execution order.
struct NodeNames {
  std::vector<std::string> train;
  std::vector<std::string> eval;
};

// Names every node of `module`'s forward as torchvision's NodePathTracer
// would (docs/design.md, "Node names"). When the train and eval lists differ, warns
// through TORCH_WARN (the host's c10::WarningHandler) with torchvision's
// wording, unless options.suppress_diff_warning.
//
// Errors: InvalidArgument for a module without `forward`, or a leaf module
// class that does not occur in the model (with the closest class names).
[[nodiscard]] absl::StatusOr<NodeNames> GetGraphNodeNames(const torch::jit::Module& module,
                                                          const TracerOptions& options = {});

// The manifest as JSON, e.g. for tuple mode
//   {"mode": "tuple",
//    "eval": [{"index": 0, "triton_name": "OUTPUT__0", "name": "output", "node": "output"},
//             {"index": 1, "triton_name": "OUTPUT__1", "name": "feat1", "node": "layer1.1.relu_1"}],
//    "train": [...]}
std::string ManifestJson(const OutputManifest& manifest);

// A new module whose forward emits the chosen activations (docs/design.md,
// "Outputs and modes"); `module` is not changed. The new one shares its
// submodules, parameters and buffers, as torchvision's does (so `extractor.eval()` also
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

// The same rewrite for a server at load time: on success `module` names the
// rewritten model, a new object that shares the old one's submodules,
// parameters and buffers. On any error `module` is left exactly as it was.
//
// The old object is never changed, so this is safe while other threads
// serve it: requests in flight, other handles on it (Module is a handle),
// Methods taken from it and its copy()s keep the old forward. To swap a
// serving model, rewrite a handle off to the side and publish it the way you
// publish any new model (a Module handle itself is not an atomic):
//
//   torch::jit::Module next = current;   // under your lock
//   FEATX_RETURN_IF_ERROR(featx::InstrumentInPlace(next, options));
//   current = next;                      // under your lock
//
// Thread-safety: every function here may run on any thread at once, also on
// one model, and on a model that is serving.
[[nodiscard]] absl::Status InstrumentInPlace(torch::jit::Module& module, const ExtractorOptions& options,
                                             OutputManifest* manifest = nullptr);

}  // namespace featx
