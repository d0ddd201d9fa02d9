// featx.name_nodes: torchvision's node names for a graph featx has inlined
// and specialized.
//
//   std::vector<NamedNode> names = NameNodes(graph, {"x"});  // names[0].name == "x"
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/naming/named_graph.h"

namespace featx {

// torchvision's NodePathTracer names for an inlined, specialized graph, in
// execution order (nodes inside prim::If / prim::Loop blocks in place,
// then-branch first): the forward arguments, leaf module calls by module
// path, ops as `<module path>.<op>`, parameter reads as FX's get_attr
// nodes, with torchvision's local `_1`, `_2` suffixes. Structural nodes
// (constants, module attribute reads, list and tuple packing, control flow
// nodes themselves, exceptions, casts) get no name.
// `input_names` are forward's argument names after `self` (its schema's:
// inlining may rename the graph's values).
std::vector<NamedNode> NameNodes(const std::shared_ptr<torch::jit::Graph>& graph,
                                 const std::vector<std::string>& input_names);

}  // namespace featx
