// featx.inline_non_leaf: a module's forward as FX traces it, down to leaf
// module calls. The first pass of every pipeline.
//
//   std::shared_ptr<Graph> graph = module.get_method("forward").graph();
//   InlineNonLeaf(graph, leaves, &module);  // graph is now a new, inlined graph
#pragma once

#include <memory>

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include "plugin/analysis/call_marks.h"
#include "plugin/naming/leaf_functions.h"
#include "plugin/naming/leaf_modules.h"

namespace featx {

// Inlines calls of non-leaf submodules' methods, and of TorchScript functions
// that are not leaf functions (`functions`: torch.nn.functional's,
// torchvision.ops', torchvision's wrapped ones, the user's), recursively;
// calls of leaf modules stay single prim::CallMethod nodes, of leaf
// functions prim::CallFunction nodes. Every inlined node
// records the path of the module whose code it is (plugin/naming/module_path.h).
// `graph` must be a method graph whose first input is the module; it is
// replaced by a new graph (the one given is only read). With
// `root`, the module `graph` is a method of, calls through an interface-typed
// submodule (torch.jit.interface) are resolved to the object `root` holds
// there, as FX traces the object; without it they stay calls. With `root`,
// what FX evaluates in Python is evaluated while copying: plain attributes
// of the modules `root` holds (not `training`, not ones the code writes)
// become constants, scalar ops on constants their results, an `if` on a
// constant its taken branch, and an `if` whose branches give the same
// constants that constant; FoldModuleAttributes is left the reads of
// modules the copy does not follow to their object (an interface-typed
// submodule's own attributes).
// With `mark_calls`, each inlined call of a submodule's method is left
// between two marks, prim::featx_call_begin() before its code and
// prim::featx_call_end[name=<method>](module, arguments..., returned) after
// it (plugin/analysis/call_marks.h), for RestoreCalls; no other pass runs on marked graphs (the names they
// give are the same, saving one fails).
void InlineNonLeaf(std::shared_ptr<torch::jit::Graph>& graph, const LeafModules& leaves,
                   const torch::jit::Module* root = nullptr, bool mark_calls = false,
                   const LeafFunctions& functions = LeafFunctions());

}  // namespace featx
