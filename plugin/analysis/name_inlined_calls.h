// Names for a graph TorchScript's executor inlined itself (what the executor
// hook sees), read from the call stacks it keeps on each node.
//
//   for (const InlinedCall& call : NameInlinedCalls(graph, leaves)) ...
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/naming/leaf_modules.h"
#include "plugin/naming/named_graph.h"

namespace featx {

// A node of a graph that TorchScript's graph executor inlined completely
// (what its custom passes see): a leaf module call, named by its module path
// with torchvision's `_1`, `_2` for repeated calls, or an aten op outside
// leaf calls, named `<module path>.<op>` without suffix.
struct InlinedCall {
  // For a call: its last node, and that node's tensor (what the call
  // returned), if it makes one.
  NamedNode named;
  bool leaf_call = false;
};

// The leaf calls and ops of `graph` in execution order, read from the
// inlined call stacks TorchScript keeps on each node. The branches of a
// prim::If are read as FX would see either one (a call in both branches
// gets one name, twice); calls inside prim::Loop, and a leaf call that
// leaves no node (Identity), are not seen.
std::vector<InlinedCall> NameInlinedCalls(const std::shared_ptr<torch::jit::Graph>& graph, const LeafModules& leaves);

}  // namespace featx
