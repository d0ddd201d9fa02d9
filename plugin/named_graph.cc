#include "plugin/named_graph.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {

std::vector<std::string> NamedGraph::Names() const {
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const NamedNode& n : nodes) names.push_back(n.name);
  return names;
}

namespace {

// Forward's graph inlined down to leaf calls with its plain attributes
// folded (all that does not depend on the training mode), and its argument
// names.
struct InlinedForward {
  std::shared_ptr<torch::jit::Graph> graph;
  std::vector<std::string> input_names;
};

absl::StatusOr<InlinedForward> InlineForward(const torch::jit::Module& module, const LeafModules& leaves) {
  if (!module.find_method("forward")) {
    return absl::InvalidArgumentError(absl::StrCat("module of class ", PythonClassName(*module.type()),
                                                   " has no forward method; featx names the nodes of forward"));
  }
  return TorchCall([&] {
    torch::jit::Method forward = module.get_method("forward");
    InlinedForward inlined;
    for (const c10::Argument& arg : forward.function().getSchema().arguments()) {
      inlined.input_names.push_back(arg.name());
    }
    inlined.input_names.erase(inlined.input_names.begin());  // self
    inlined.graph = forward.graph()->copy();
    InlineNonLeaf(inlined.graph, leaves);
    FoldModuleAttributes(inlined.graph, module);
    return inlined;
  });
}

// Specializes `graph` in place and names it.
absl::StatusOr<NamedGraph> SpecializeAndName(std::shared_ptr<torch::jit::Graph> graph,
                                             const std::vector<std::string>& input_names, bool training) {
  return TorchCall([&] {
    NamedGraph named;
    named.graph = std::move(graph);
    SpecializeTraining(named.graph, training);
    named.nodes = NameNodes(named.graph, input_names);
    return named;
  });
}

}  // namespace

absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module, const LeafModules& leaves, bool training) {
  FEATX_ASSIGN_OR_RETURN(InlinedForward inlined, InlineForward(module, leaves));
  return SpecializeAndName(inlined.graph, inlined.input_names, training);
}

absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module, const LeafModules& leaves) {
  FEATX_ASSIGN_OR_RETURN(InlinedForward inlined, InlineForward(module, leaves));
  TrainAndEval both;
  // Most models never read `training` outside their leaves (resnet50 does
  // not): then both modes are one graph, specialized and named once.
  const bool same_in_both_modes = !ReadsTraining(inlined.graph);
  std::shared_ptr<torch::jit::Graph> train_graph = same_in_both_modes ? inlined.graph : inlined.graph->copy();
  FEATX_ASSIGN_OR_RETURN(both.train, SpecializeAndName(train_graph, inlined.input_names, /*training=*/true));
  if (same_in_both_modes) {
    both.eval = both.train;
  } else {
    FEATX_ASSIGN_OR_RETURN(both.eval, SpecializeAndName(inlined.graph, inlined.input_names, /*training=*/false));
  }
  return both;
}

}  // namespace featx
