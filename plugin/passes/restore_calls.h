// featx.restore_calls: inlined calls that hold no chosen node go back to
// being one module call, so the rewritten model runs the module's own code.
//
//   InlineNonLeaf(graph, leaves, &module, /*mark_calls=*/true);
//   RestoreCalls(graph, {chosen_node});
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// Puts each marked call back as one prim::CallMethod where its code holds
// none of `keep` (nor an if or loop around one) and is still a unit: nothing
// after it uses a value it makes other than what it returns. Calls that
// stay inlined have their inner calls tried; every mark is removed. Returns
// how many calls were put back.
size_t RestoreCalls(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<const torch::jit::Node*>& keep);

}  // namespace featx
