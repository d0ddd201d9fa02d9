// Small questions about TorchScript values that many passes ask.
//
//   if (IsTensor(value)) { jit::WithInsertPoint at(FirstUseSite(value)); ... }
#pragma once

#include <ATen/core/jit_type.h>
#include <torch/csrc/jit/ir/ir.h>

namespace featx {

inline bool IsTensor(const torch::jit::Value* value) { return value->type()->isSubtypeOf(*c10::TensorType::get()); }

// Where a node that reads `value` right after it is made goes (insert before
// the node returned): after its node, or first in its block for a graph or
// block input.
inline torch::jit::Node* FirstUseSite(torch::jit::Value* value) {
  torch::jit::Node* made_by = value->node();
  if (made_by->kind() == c10::prim::Param) return made_by->owningBlock()->nodes().front();
  return made_by->next();
}

}  // namespace featx
