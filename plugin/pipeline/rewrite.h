// A rewrite in progress: what featx's registered passes read and write
// (plugin/pipeline/pass_registry.h). It holds copies of the module's forward graph,
// never the module's own, so a host may stop a rewrite at any pass, inspect
// it, or drop it: the module is unchanged until the host installs
// `forward` (plugin/pipeline/install_forward.h).
//
//   FEATX_ASSIGN_OR_RETURN(featx::Rewrite rewrite, featx::Rewrite::Start(module, options));
//   FEATX_RETURN_IF_ERROR(featx::RunPasses(featx::NamingPipeline({}), rewrite));
//   for (const featx::NamedNode& n : rewrite.eval->named.nodes) std::cout << n.name << "\n";
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/analysis/call_summaries.h"
#include "plugin/naming/concrete_args.h"
#include "plugin/naming/leaf_functions.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/naming/named_graph.h"
#include "plugin/naming/return_nodes.h"
#include "plugin/options.h"
#include "plugin/status.h"

namespace featx {

// How far a rewrite has come. Each pass runs at one stage and moves the
// rewrite to the same or the next one (plugin/pipeline/pass_registry.h).
enum class Stage {
  kModule,       // nothing done yet
  kInlined,      // `inlined` holds forward inlined down to leaf calls
  kSpecialized,  // `train` and `eval` hold one graph per training mode
  kNamed,        // ... with torchvision's node names
  kChosen,       // ... and the nodes the options choose
  kEmitted,      // ... whose graphs now emit those nodes
  kMerged,       // `forward` holds the one graph to install
};

// What a stage holds, for messages: "named train and eval graphs".
absl::string_view StageDescription(Stage stage);

// One training mode's part of a rewrite.
// A chosen node of one mode and what the graph emits for it.
struct ChosenOutput {
  // The node and its output name (featx.choose_outputs).
  ChosenNode chosen;
  // The value to emit: the node's value, or the clone of it that
  // featx.protect_aliases made.
  torch::jit::Value* value = nullptr;
  // Tap mode: record a copy, since the value is overwritten later
  // (featx.protect_aliases).
  bool tap_copy = false;
};

// One training mode's part of a rewrite.
struct ModeRewrite {
  // Which mode; the train part also while both modes share this object.
  bool training = true;
  // After featx.restore_calls, only the chosen nodes' entries point into
  // the graph (the others may be inside a call again); all keep their names.
  NamedGraph named;
  // The chosen nodes, in graph order.
  std::vector<ChosenOutput> outputs;
  // What the graph emits once the outputs are in (dict keys, tuple slots or
  // tap tags).
  std::vector<ManifestEntry> emitted;

  // "train" or "eval", for messages.
  absl::string_view TrainingName() const { return training ? "train" : "eval"; }
  // The chosen values under their output names.
  std::vector<EmittedOutput> EmittedOutputs() const;
  // Adds the chosen nodes to `emitted`, once an emitting pass put them in.
  void EmitChosen();
};

struct Rewrite {
  // Validates the options that need no graph (choices, mode, leaf module
  // classes) so that bad options fail before any work is done.
  [[nodiscard]] static absl::StatusOr<Rewrite> Start(const torch::jit::Module& module, const ExtractorOptions& options);

  // The train and eval parts, once each: one object while both modes share
  // one graph and one choice (most models: `training` is read only inside
  // leaf modules).
  std::vector<ModeRewrite*> Modes() const;
  bool ModesShared() const { return train == eval; }
  // Runs `fn(ModeRewrite&) -> absl::Status` on each of Modes(); torch's
  // errors become statuses.
  template <typename Fn>
  absl::Status ForEachMode(Fn&& fn) const {
    for (ModeRewrite* mode : Modes()) {
      FEATX_RETURN_IF_ERROR(TorchCall([&]() -> absl::Status { return fn(*mode); }));
    }
    return absl::OkStatus();
  }

  torch::jit::Module module;  // the model, a handle: never changed here
  ExtractorOptions options;
  LeafModules leaves;
  LeafFunctions leaf_functions;
  std::vector<ConcreteArgument> concrete_args;
  // Parsed return_nodes, when the options choose any.
  std::optional<Choices> choices;

  Stage stage = Stage::kModule;
  // Names of the passes run so far, in order, and those RunPasses was given
  // (empty while passes run one by one): a pass may prepare for a later one.
  std::vector<std::string> passes_run;
  std::vector<std::string> passes_planned;

  // kInlined: forward's graph inlined down to leaf calls, and its argument
  // names (after `self`).
  std::shared_ptr<torch::jit::Graph> inlined;
  std::vector<std::string> input_names;
  // kSpecialized and later.
  std::shared_ptr<ModeRewrite> train;
  std::shared_ptr<ModeRewrite> eval;
  // What each module call does to its arguments, learned once for both
  // modes.
  std::shared_ptr<CallSummaries> summaries = std::make_shared<CallSummaries>();
  // kMerged: the forward to install, and what it emits.
  std::shared_ptr<torch::jit::Graph> forward;
  OutputManifest manifest;
};

}  // namespace featx
