// featx.specialize_training: one graph per training mode, as FX traces a
// module in train() or eval().
//
//   if (ReadsTraining(graph)) SpecializeTraining(eval_graph, /*training=*/false);
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// The graph as it runs with every module's `training` equal to `training`:
// reads of the attribute become constants, then constant propagation folds
// the branches that depend on them and removes dead code. Leaf modules'
// own code is not inlined, so their internal branches are left alone, as FX
// leaves them.
void SpecializeTraining(std::shared_ptr<torch::jit::Graph>& graph, bool training);

// True when something in the graph uses a module's `training` (what SpecializeTraining
// replaces); false means both modes give the same graph.
bool ReadsTraining(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace featx
