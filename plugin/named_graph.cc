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

absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module, const LeafModules& leaves, bool training) {
  if (!module.find_method("forward")) {
    return absl::InvalidArgumentError(absl::StrCat("module of class ", PythonClassName(*module.type()),
                                                   " has no forward method; featx names the nodes of forward"));
  }
  return TorchCall([&] {
    NamedGraph named;
    torch::jit::Method forward = module.get_method("forward");
    std::vector<std::string> input_names;
    for (const c10::Argument& arg : forward.function().getSchema().arguments()) input_names.push_back(arg.name());
    input_names.erase(input_names.begin());  // self
    named.graph = forward.graph()->copy();
    InlineNonLeaf(named.graph, leaves);
    FoldModuleAttributes(named.graph, module);
    SpecializeTraining(named.graph, training);
    named.nodes = NameNodes(named.graph, input_names);
    return named;
  });
}

}  // namespace featx
