// A rewrite in progress: what featx's registered passes read and write
// (plugin/pass_registry.h). It holds copies of the module's forward graph,
// never the module's own, so a host may stop a rewrite at any pass, inspect
// it, or drop it: the module is unchanged until the host installs
// `forward` (plugin/install_forward.h).
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

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/leaf_modules.h"
#include "plugin/options.h"
#include "plugin/passes/call_summaries.h"
#include "plugin/passes/passes.h"
#include "plugin/return_nodes.h"

namespace featx {

// How far a rewrite has come. Each pass runs at one stage and moves the
// rewrite to the same or the next one (plugin/pass_registry.h).
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

// A module's forward as FX would trace it in one training mode, with
// torchvision's node names.
struct NamedGraph {
  // A copy of forward's graph, inlined down to leaf calls and specialized
  // for one training mode. Its first input is the module.
  std::shared_ptr<torch::jit::Graph> graph;
  // Named nodes of `graph` in execution order.
  std::vector<NamedNode> nodes;

  std::vector<std::string> Names() const;
};

// One training mode's part of a rewrite.
struct ModeRewrite {
  // "train" or "eval" (for messages); "train" also while both modes share
  // this object.
  std::string training;
  // After featx.restore_calls, only the chosen nodes' entries point into
  // the graph (the others may be inside a call again); all keep their names.
  NamedGraph named;
  // The chosen nodes (featx.choose_outputs), in graph order, and the value
  // to emit for each: the node's value, or the clone of it that
  // featx.protect_aliases made.
  std::vector<ChosenNode> chosen;
  std::vector<torch::jit::Value*> values;
  // For each chosen node in tap mode: record a copy, since the value is
  // overwritten later (featx.protect_aliases).
  std::vector<bool> tap_copies;
  // What the graph emits once the outputs are in (dict keys, tuple slots or
  // tap tags).
  std::vector<ManifestEntry> emitted;
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

  torch::jit::Module module;  // the model, a handle: never changed here
  ExtractorOptions options;
  LeafModules leaves;
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
