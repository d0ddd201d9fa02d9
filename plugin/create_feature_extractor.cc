// featx::CreateFeatureExtractor and featx::InstrumentInPlace (plugin/featx.h):
// the load-time rewrite, one pass after the other.
#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/featx.h"
#include "plugin/graph_diff_warning.h"
#include "plugin/install_forward.h"
#include "plugin/leaf_modules.h"
#include "plugin/named_graph.h"
#include "plugin/passes/passes.h"
#include "plugin/return_nodes.h"
#include "plugin/status.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool IsTensor(const jit::Value* v) { return v->type()->isSubtypeOf(*c10::TensorType::get()); }

// The chosen nodes' values, if the mode can emit each of them.
absl::StatusOr<std::vector<jit::Value*>> ChosenValues(const std::vector<ChosenNode>& chosen, const NamedGraph& named,
                                                      Mode mode) {
  std::vector<jit::Value*> values;
  for (const ChosenNode& c : chosen) {
    const NamedNode& n = *c.node;
    if (n.value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("node '", n.name, "' has several outputs; choose a node that makes one tensor"));
    }
    if (!IsTensor(n.value)) {
      return absl::InvalidArgumentError(absl::StrCat("node '", n.name, "' makes a ", n.value->type()->annotation_str(),
                                                     ", not a Tensor; only tensors can be extracted"));
    }
    if (mode == Mode::kTuple && n.node != nullptr && n.node->owningBlock() != named.graph->block()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tuple mode cannot return node '", n.name, "': it is inside control flow (",
          n.node->owningBlock()->owningNode()->kind().toQualString(),
          "), so it does not exist on every run and a tuple has a fixed set of slots; choose it in dict mode "
          "(its key is present when the branch runs) or tap mode"));
    }
    values.push_back(n.value);
  }
  return values;
}

// Names of the model's own outputs as tuple mode flattens them: `output`
// for a tensor, `output.0`, `output.1.0`, ... inside tuples.
absl::Status AppendFlatOutputNames(const c10::TypePtr& type, const std::string& name,
                                   std::vector<ManifestEntry>* slots) {
  if (auto tuple = type->cast<c10::TupleType>()) {
    for (size_t i = 0; i < tuple->elements().size(); ++i) {
      FEATX_RETURN_IF_ERROR(AppendFlatOutputNames(tuple->elements()[i], absl::StrCat(name, ".", i), slots));
    }
    return absl::OkStatus();
  }
  if (!type->isSubtypeOf(*c10::TensorType::get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("tuple mode returns the model's own outputs as tensors, but its output '", name, "' is a ",
                     type->annotation_str(), "; use dict mode (the chosen nodes only) or tap mode"));
  }
  slots->push_back({name, "output"});
  return absl::OkStatus();
}

// featx::request_begin() first and featx::request_end() last, so that hosts
// that open no capture can still send a request's activations to a sink
// (ops/capture.h).
void BracketRequest(std::shared_ptr<jit::Graph>& graph) {
  static const c10::Symbol kBegin = c10::Symbol::fromQualString("featx::request_begin");
  static const c10::Symbol kEnd = c10::Symbol::fromQualString("featx::request_end");
  graph->create(kBegin, {}, 0)->insertBefore(graph->block()->nodes().front());
  graph->create(kEnd, {}, 0)->insertBefore(graph->return_node());
}

struct ModeGraph {
  std::shared_ptr<jit::Graph> graph;
  std::vector<ManifestEntry> emitted;
};

// One training mode's forward: the chosen values, as they were at their
// nodes, emitted as `mode` says.
absl::StatusOr<ModeGraph> BuildModeGraph(NamedGraph named, const std::vector<ReturnNode>& wanted,
                                         absl::string_view training, Mode mode, CallSummaries& summaries) {
  FEATX_ASSIGN_OR_RETURN(std::vector<ChosenNode> chosen, ResolveReturnNodes(wanted, named.nodes, training));
  FEATX_ASSIGN_OR_RETURN(std::vector<jit::Value*> values, ChosenValues(chosen, named, mode));
  ModeGraph out{named.graph, {}};
  if (mode == Mode::kTuple) {
    FEATX_RETURN_IF_ERROR(AppendFlatOutputNames(named.graph->outputs()[0]->type(), "output", &out.emitted));
  }
  for (const ChosenNode& c : chosen) out.emitted.push_back({c.output_name, c.node->name});

  FEATX_RETURN_IF_ERROR(TorchCall([&]() -> absl::Status {
    if (mode == Mode::kTap) {
      const std::vector<bool> overwritten = OverwrittenLater(out.graph, values, &summaries);
      std::vector<TapPoint> taps;
      for (size_t i = 0; i < chosen.size(); ++i) taps.push_back({values[i], chosen[i].output_name, overwritten[i]});
      const std::vector<jit::Value*> tapped = InsertTaps(out.graph, taps);
      for (size_t i = 0; i < tapped.size(); ++i) {
        if (!tapped[i]->hasUses()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "tap mode cannot observe node '", chosen[i].node->name,
              "': nothing in the model reads its value, so a tap on it would be removed as dead code; use dict "
              "mode"));
        }
      }
      jit::EliminateDeadCode(out.graph);
      BracketRequest(out.graph);
      return absl::OkStatus();
    }
    const std::vector<jit::Value*> at_node = ProtectAliases(out.graph, values, &summaries);
    std::vector<EmittedOutput> outputs;
    for (size_t i = 0; i < chosen.size(); ++i) outputs.push_back({chosen[i].output_name, at_node[i]});
    if (mode == Mode::kDict) {
      ReturnDict(out.graph, outputs);
      Prune(out.graph, &summaries);
    } else {
      ReturnTuple(out.graph, outputs);
      jit::EliminateDeadCode(out.graph);
    }
    return absl::OkStatus();
  }));
  return out;
}

// The recipe: parse the choice, trace both training modes into named
// graphs, warn if they differ, build each mode's forward, merge them.
absl::StatusOr<ModeGraph> BuildForward(const jit::Module& module, const ExtractorOptions& options,
                                       OutputManifest* manifest) {
  FEATX_ASSIGN_OR_RETURN(Choices choices,
                         ParseChoices(options.return_nodes, options.train_return_nodes, options.eval_return_nodes));
  if (options.mode == Mode::kTuple && choices.train.size() != choices.eval.size()) {
    return absl::InvalidArgumentError(absl::StrCat("tuple mode needs as many train_return_nodes as eval_return_nodes (",
                                                   choices.train.size(), " and ", choices.eval.size(),
                                                   "): forward returns one tuple type in both modes"));
  }
  FEATX_ASSIGN_OR_RETURN(LeafModules leaves, LeafModules::Create(module, options.leaf_modules));
  FEATX_ASSIGN_OR_RETURN(TrainAndEval graphs, TraceTrainAndEval(module, leaves));
  if (!options.suppress_diff_warning) WarnIfModesDiffer(graphs.train.Names(), graphs.eval.Names());
  const bool same_graph = graphs.train.graph == graphs.eval.graph;
  manifest->mode = options.mode;
  // What each module call does to its arguments, learned once for both modes.
  CallSummaries summaries;
  if (same_graph && choices.Same()) {
    FEATX_ASSIGN_OR_RETURN(ModeGraph both,
                           BuildModeGraph(graphs.train, choices.train, "train", options.mode, summaries));
    manifest->train = manifest->eval = both.emitted;
    return both;
  }
  if (same_graph) {
    // The modes share one graph but not one choice: each needs its own copy.
    FEATX_ASSIGN_OR_RETURN(graphs.eval, TraceNamedGraph(module, leaves, /*training=*/false));
  }
  FEATX_ASSIGN_OR_RETURN(ModeGraph train,
                         BuildModeGraph(graphs.train, choices.train, "train", options.mode, summaries));
  FEATX_ASSIGN_OR_RETURN(ModeGraph eval, BuildModeGraph(graphs.eval, choices.eval, "eval", options.mode, summaries));
  manifest->train = train.emitted;
  manifest->eval = eval.emitted;
  if (options.mode == Mode::kTuple && train.emitted.size() != eval.emitted.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tuple mode: the model's own outputs differ between train mode (", train.emitted.size() - choices.train.size(),
        " tensors) and eval mode (", eval.emitted.size() - choices.eval.size(), " tensors)"));
  }
  FEATX_ASSIGN_OR_RETURN(std::shared_ptr<jit::Graph> merged,
                         TorchCall([&] { return MergeTrainEval(train.graph, eval.graph); }));
  return ModeGraph{merged, {}};
}

}  // namespace

absl::Status InstrumentInPlace(jit::Module& module, const ExtractorOptions& options, OutputManifest* manifest) {
  // Everything is built on copies first: an error leaves the module as it was.
  OutputManifest emitted;
  FEATX_ASSIGN_OR_RETURN(ModeGraph forward, BuildForward(module, options, &emitted));
  FEATX_RETURN_IF_ERROR(InstallForward(module, std::move(forward.graph)));
  if (manifest != nullptr) *manifest = std::move(emitted);
  return absl::OkStatus();
}

absl::StatusOr<jit::Module> CreateFeatureExtractor(const jit::Module& module, const ExtractorOptions& options,
                                                   OutputManifest* manifest) {
  OutputManifest emitted;
  FEATX_ASSIGN_OR_RETURN(ModeGraph forward, BuildForward(module, options, &emitted));
  FEATX_ASSIGN_OR_RETURN(jit::Module extractor, WithForward(module, std::move(forward.graph)));
  if (manifest != nullptr) *manifest = std::move(emitted);
  return extractor;
}

}  // namespace featx
