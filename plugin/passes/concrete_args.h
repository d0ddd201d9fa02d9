// featx.concrete_args: forward arguments fixed to constants, as FX
// specializes torchvision's `concrete_args`: each use of the argument
// becomes its value, so branches on it fold as FX decides them, and forward
// first checks that a call passes that value, raising FX's AssertionError
// otherwise.
//
//   forward(self, x, attn_mask: Optional[Tensor] = None), attn_mask=None:
//     %is = aten::__is__(%attn_mask, None)
//     prim::If(%is) {} else { prim::RaiseException("AssertionError: attn_mask has been specialized ...") }
//     ... %attn_mask's uses read None
//
// featx.name_nodes names the checks as FX does: `_assert_is_none` after a
// None argument, `eq` and `_assert` after another.
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/naming/concrete_args.h"

namespace featx {

void FixConcreteArgs(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<ConcreteArgument>& fixed);

}  // namespace featx
