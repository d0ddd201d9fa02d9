// The named graph: a module's forward as FX would trace it in one training
// mode, with torchvision's node names. Everything featx does starts here.
//
//   FEATX_ASSIGN_OR_RETURN(NamedGraph eval, TraceNamedGraph(module, leaves, /*training=*/false));
//   for (const NamedNode& n : eval.nodes) std::cout << n.name << "\n";
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "plugin/leaf_modules.h"
#include "plugin/passes/passes.h"

namespace featx {

struct NamedGraph {
  // A copy of forward's graph, inlined down to leaf calls and specialized
  // for one training mode. Its first input is the module.
  std::shared_ptr<torch::jit::Graph> graph;
  // Named nodes of `graph` in execution order.
  std::vector<NamedNode> nodes;

  std::vector<std::string> Names() const;
};

// The recipe: copy forward's graph, inline non-leaf calls, fold plain module
// attributes, specialize `training`, name the nodes. `module` is not changed.
[[nodiscard]] absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module, const LeafModules& leaves,
                                                         bool training);

struct TrainAndEval {
  NamedGraph train;
  // The same graph as `train` when the model reads `training` only inside
  // leaf modules, so the two modes cannot differ.
  NamedGraph eval;
};

// Both modes, inlining once: what get_graph_node_names and a dual
// train/eval rewrite need.
[[nodiscard]] absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module,
                                                             const LeafModules& leaves);

}  // namespace featx
