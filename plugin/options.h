// What featx is asked to do: the options of a rewrite and what a rewritten
// forward emits. Shared by the C++ API (plugin/featx.h), the config flags
// and the registered passes (plugin/pipeline/pass_registry.h).
//
//   featx::ExtractorOptions options;
//   options.return_nodes = {"layer1:feat1", "fc"};
//   options.mode = featx::Mode::kTap;
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace featx {

// How to trace a model into named nodes (torchvision's tracer_kwargs).
struct TracerOptions {
  // Extra leaf module classes, by bare (`MyBlock`) or qualified
  // (`mymodels.MyBlock`) Python class name. Each must occur in the model.
  std::vector<std::string> leaf_modules;
  // Extra leaf functions, by qualified (`timm.models.swin_transformer.
  // window_reverse`) or bare Python name (torchvision's autowrap_functions,
  // a library's torch.fx.wrap registry), besides torch.nn.functional's,
  // torchvision.ops' and the functions torchvision wraps. Each must be a
  // function the model calls (plugin/naming/leaf_functions.h).
  std::vector<std::string> leaf_functions;
  // Forward arguments fixed before naming, as "name=value" (None, True,
  // False, an int or a float): torchvision's concrete_args. Branches on them
  // fold as FX decides them, and forward checks each call passes that value
  // (plugin/naming/concrete_args.h).
  std::vector<std::string> concrete_args;
  // A library's registries of leaf modules and functions, added to the
  // above: "timm", or "torchvision" (the default, nothing added)
  // (plugin/naming/tracer_presets.h).
  std::string tracer;
  // Do not warn when train and eval names differ.
  bool suppress_diff_warning = false;
};

// What a rewritten forward returns (docs/design.md, "Outputs and modes").
enum class Mode {
  // Dict[str, Tensor] of the chosen nodes; the graph pruned to what they need.
  kDict,
  // The model's own outputs, then the chosen nodes, as one flat tuple.
  kTuple,
  // The model's own output, unchanged; chosen values pass through featx::tap.
  kTap,
};

// torchvision's create_feature_extractor arguments: the tracer's, and which
// nodes to emit how.
struct ExtractorOptions : TracerOptions {
  // Node specs: a node name, or a prefix meaning the last node under it
  // (`layer1`), optionally with an output name (`layer1:feat1`).
  std::vector<std::string> return_nodes;
  // Instead of return_nodes, one choice per mode (both or neither).
  std::vector<std::string> train_return_nodes;
  std::vector<std::string> eval_return_nodes;
  // torchvision's create_feature_extractor returns a dict. A host
  // configured by flags defaults to tap instead (Config, plugin/host/flags.h).
  Mode mode = Mode::kDict;
  // The registered passes to run, in order (plugin/pipeline/pass_registry.h); empty
  // means featx's load-time pipeline for `mode` (plugin/pipeline/pipeline.h).
  std::vector<std::string> passes;
  // Tap mode: the key of the request sink this model's requests report to
  // when the host opens no capture (featx::SetRequestSink, ops/capture.h);
  // empty: the process's default sink. featx_instrument sets it when its
  // flags name a sink.
  std::string request_sink;
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

// "dict", "tuple", "tap".
absl::string_view ModeName(Mode mode);
// The inverse; InvalidArgument (with the closest name) for anything else.
[[nodiscard]] absl::StatusOr<Mode> ParseMode(absl::string_view name);

}  // namespace featx
