// featx's core naming types: a node with torchvision's name for it, and a
// graph whose nodes have them. Made by the naming passes (featx.name_nodes,
// plugin/pipeline/trace.h), read by everything after.
//
//   FEATX_ASSIGN_OR_RETURN(TrainAndEval both, TraceTrainAndEval(module, {}));
//   for (const NamedNode& n : both.eval.nodes) std::cout << n.name << "\n";
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// A node name and the node it names.
struct NamedNode {
  std::string name;
  // The named node, or nullptr for a graph input.
  torch::jit::Node* node = nullptr;
  // The value the name stands for: the node's single output, the input, or
  // for an unpack (FX's getitem) its element. nullptr when the node has
  // several outputs.
  torch::jit::Value* value = nullptr;
};

// A module's forward as FX would trace it in one training mode, with
// torchvision's node names.
struct NamedGraph {
  // A copy of forward's graph, inlined down to leaf calls and specialized
  // for one training mode. Its first input is the module.
  std::shared_ptr<torch::jit::Graph> graph;
  // Named nodes of `graph` in execution order.
  std::vector<NamedNode> nodes;

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    names.reserve(nodes.size());
    for (const NamedNode& n : nodes) names.push_back(n.name);
    return names;
  }
};

// A chosen activation and the name it is emitted under (a dict key, a tuple
// slot's name).
struct EmittedOutput {
  std::string name;
  torch::jit::Value* value;
};

struct TrainAndEval {
  NamedGraph train;
  // The same graph as `train` when the model reads `training` only inside
  // leaf modules, so the two modes cannot differ.
  NamedGraph eval;
};

}  // namespace featx
