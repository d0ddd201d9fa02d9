// featx::CreateFeatureExtractor and featx::InstrumentInPlace (plugin/featx.h):
// the load-time rewrite, one pass after the other.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

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

struct Choices {
  std::vector<ReturnNode> train;
  std::vector<ReturnNode> eval;
};

// torchvision's argument rules for return_nodes / train_ / eval_return_nodes.
absl::StatusOr<Choices> ParseChoices(const ExtractorOptions& options) {
  const bool per_mode = !options.train_return_nodes.empty() || !options.eval_return_nodes.empty();
  if (options.return_nodes.empty() && !per_mode) {
    return absl::InvalidArgumentError(
        "no return nodes given: set return_nodes, or train_return_nodes and eval_return_nodes together");
  }
  if (!options.return_nodes.empty() && per_mode) {
    return absl::InvalidArgumentError(
        "return_nodes and train_return_nodes/eval_return_nodes are exclusive: give return_nodes for both modes, "
        "or the two per-mode lists");
  }
  if (per_mode && (options.train_return_nodes.empty() || options.eval_return_nodes.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("train_return_nodes and eval_return_nodes go together, but only ",
                     options.train_return_nodes.empty() ? "eval_return_nodes" : "train_return_nodes", " is given"));
  }
  Choices choices;
  FEATX_ASSIGN_OR_RETURN(choices.train, ParseReturnNodes(per_mode ? options.train_return_nodes : options.return_nodes));
  FEATX_ASSIGN_OR_RETURN(choices.eval, ParseReturnNodes(per_mode ? options.eval_return_nodes : options.return_nodes));
  return choices;
}

bool IsTensor(const jit::Value* v) { return v->type()->isSubtypeOf(*c10::TensorType::get()); }

// One mode's forward: the chosen values, protected from later in-place
// writes, returned as a dict, the rest pruned.
absl::StatusOr<std::shared_ptr<jit::Graph>> BuildModeGraph(NamedGraph named, const std::vector<ReturnNode>& wanted,
                                                           absl::string_view mode) {
  FEATX_ASSIGN_OR_RETURN(std::vector<ChosenNode> chosen, ResolveReturnNodes(wanted, named.nodes, mode));
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
    if (n.node != nullptr && n.node->owningBlock() != named.graph->block()) {
      return absl::UnimplementedError(absl::StrCat(
          "node '", n.name, "' is inside control flow (", n.node->owningBlock()->owningNode()->kind().toQualString(),
          "); extracting values from inside prim::If / prim::Loop blocks is not built yet"));
    }
    values.push_back(n.value);
  }
  return TorchCall([&] {
    std::vector<jit::Value*> at_node = ProtectAliases(named.graph, values);
    std::vector<EmittedOutput> outputs;
    for (size_t i = 0; i < chosen.size(); ++i) outputs.push_back({chosen[i].output_name, at_node[i]});
    ReturnDict(named.graph, outputs);
    Prune(named.graph);
    return named.graph;
  });
}

absl::StatusOr<std::shared_ptr<jit::Graph>> BuildForward(const jit::Module& module, const ExtractorOptions& options) {
  if (options.mode != Mode::kDict) {
    return absl::UnimplementedError("only dict mode is built so far; tuple and tap modes come next");
  }
  FEATX_ASSIGN_OR_RETURN(Choices choices, ParseChoices(options));
  FEATX_ASSIGN_OR_RETURN(LeafModules leaves, LeafModules::Create(module, options.leaf_modules));
  FEATX_ASSIGN_OR_RETURN(TrainAndEval graphs, TraceTrainAndEval(module, leaves));
  if (!options.suppress_diff_warning) WarnIfModesDiffer(graphs.train.Names(), graphs.eval.Names());
  const bool same_graph = graphs.train.graph == graphs.eval.graph;
  const bool same_choice = choices.train.size() == choices.eval.size() &&
                           std::equal(choices.train.begin(), choices.train.end(), choices.eval.begin(),
                                      [](const ReturnNode& a, const ReturnNode& b) {
                                        return a.spec == b.spec && a.output_name == b.output_name;
                                      });
  if (same_graph && same_choice) return BuildModeGraph(graphs.train, choices.train, "train");
  if (same_graph) {
    // The modes share one graph but not one choice: each needs its own copy.
    FEATX_ASSIGN_OR_RETURN(graphs.eval, TraceNamedGraph(module, leaves, /*training=*/false));
  }
  FEATX_ASSIGN_OR_RETURN(std::shared_ptr<jit::Graph> train, BuildModeGraph(graphs.train, choices.train, "train"));
  FEATX_ASSIGN_OR_RETURN(std::shared_ptr<jit::Graph> eval, BuildModeGraph(graphs.eval, choices.eval, "eval"));
  return TorchCall([&] { return MergeTrainEval(train, eval); });
}

}  // namespace

absl::Status InstrumentInPlace(jit::Module& module, const ExtractorOptions& options) {
  // Everything is built on copies first: an error leaves the module as it was.
  FEATX_ASSIGN_OR_RETURN(std::shared_ptr<jit::Graph> forward, BuildForward(module, options));
  return InstallForward(module, std::move(forward));
}

absl::StatusOr<jit::Module> CreateFeatureExtractor(const jit::Module& module, const ExtractorOptions& options) {
  FEATX_ASSIGN_OR_RETURN(jit::Module extractor, TorchCall([&] { return module.clone(/*inplace=*/true); }));
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(extractor, options));
  return extractor;
}

}  // namespace featx
