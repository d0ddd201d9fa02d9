// featx.fold_module_attributes: module attributes FX reads as Python values
// become constants.
//
//   FoldModuleAttributes(graph, module);
#pragma once

#include <memory>

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// Replaces reads of plain module attributes (bool, int, float, str, None, and
// tuples, lists and optionals of them) with their values in `module`, as FX
// sees them: Python constants at trace time. `training` and attributes the
// graph writes (prim::SetAttr) stay reads. `module` is the graph's owner.
void FoldModuleAttributes(std::shared_ptr<torch::jit::Graph>& graph, const torch::jit::Module& module);

}  // namespace featx
