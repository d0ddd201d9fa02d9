// What FX evaluates in Python at trace time, folded on a TorchScript graph:
// plain module attributes and scalar ops on constants. Shared by the passes
// that fold (featx.inline_non_leaf while it copies callees in,
// featx.fold_module_attributes, featx.specialize_training).
//
//   if (jit::Value* c = AttributeConstant(graph, read->output()->type(), value)) ...
//   std::vector<jit::Value*> folded = FoldScalarOp(graph, node);  // `node` is gone if not empty
#pragma once

#include <vector>

#include <ATen/core/ivalue.h>
#include <ATen/core/jit_type.h>
#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// bool, int, float, str, None and a number of either kind: Python scalars
// at FX trace time, which FX evaluates in Python and records no node for.
bool IsPythonScalarType(const c10::TypePtr& type);

// Those, enums, and tuples, lists and optionals of them: the attributes FX
// reads as Python values.
bool IsPlainType(const c10::TypePtr& type);

// The constant FX would see for an attribute of type `type` holding `value`,
// inserted at the graph's insert point; nullptr when FX sees no constant
// there (a tensor, a module, an Optional[Tensor] holding a tensor). An
// Optional holding None is None: FX makes no node for a conv's bias=False.
torch::jit::Value* AttributeConstant(torch::jit::Graph& graph, const c10::TypePtr& type, const c10::IValue& value);

// Constants of `values` at the graph's insert point, in order; none (and
// nothing inserted) if one of them cannot be a constant.
std::vector<torch::jit::Value*> InsertConstants(torch::jit::Graph& graph, const std::vector<c10::IValue>& values);

// If `n` computes Python scalars from constants (`aten::gt(0., 0.)`,
// `aten::__not__(True)`), replaces it by constants of its results and
// destroys it, returning them; otherwise returns nothing and leaves `n`.
// Tensors and containers are never folded: FX records what makes them.
std::vector<torch::jit::Value*> FoldScalarOp(torch::jit::Graph& graph, torch::jit::Node* n);

}  // namespace featx
