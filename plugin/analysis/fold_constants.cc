#include "plugin/analysis/fold_constants.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool AllInputsConstant(const jit::Node* n) {
  for (const jit::Value* input : n->inputs()) {
    if (input->node()->kind() != c10::prim::Constant) return false;
  }
  return true;
}

}  // namespace

bool IsPythonScalarType(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::BoolType:
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::StringType:
    case c10::TypeKind::NoneType:
    case c10::TypeKind::NumberType:
      return true;
    default:
      return false;
  }
}

bool IsPlainType(const c10::TypePtr& type) {
  if (IsPythonScalarType(type)) return true;
  switch (type->kind()) {
    case c10::TypeKind::EnumType:  // timm's Format.NHWC: a Python object at trace time
      return true;
    case c10::TypeKind::OptionalType:
    case c10::TypeKind::ListType:
    case c10::TypeKind::TupleType:
      for (const c10::TypePtr& contained : type->containedTypes()) {
        if (!IsPlainType(contained)) return false;
      }
      return true;
    default:
      return false;
  }
}

jit::Value* AttributeConstant(jit::Graph& graph, const c10::TypePtr& type, const c10::IValue& value) {
  // Optional[Tensor] and the like: only None is a constant FX would see.
  if (!IsPlainType(type) && !(type->kind() == c10::TypeKind::OptionalType && value.isNone())) return nullptr;
  c10::optional<jit::Value*> constant = jit::tryInsertConstant(graph, value);
  return constant ? *constant : nullptr;
}

std::vector<jit::Value*> InsertConstants(jit::Graph& graph, const std::vector<c10::IValue>& values) {
  std::vector<jit::Value*> constants;
  for (const c10::IValue& value : values) {
    c10::optional<jit::Value*> constant = jit::tryInsertConstant(graph, value);
    if (!constant) {
      for (jit::Value* inserted : constants) inserted->node()->destroy();
      return {};
    }
    constants.push_back(*constant);
  }
  return constants;
}

std::vector<jit::Value*> FoldScalarOp(jit::Graph& graph, jit::Node* n) {
  // An Uninitialized has no inputs and no value.
  // Cheap tests first: this runs on every node the inliner copies.
  if (n->kind() == c10::prim::Constant || n->kind() == c10::prim::Uninitialized || !n->blocks().empty() ||
      n->outputs().empty() || !AllInputsConstant(n)) {
    return {};
  }
  for (const jit::Value* output : n->outputs()) {
    if (!IsPythonScalarType(output->type())) return {};
  }
  if (n->hasSideEffects()) return {};
  auto values = jit::runNodeIfInputsAreConstant(n, /*ignore_custom_classes=*/true);
  if (!values || values->size() != n->outputs().size()) return {};
  jit::WithInsertPoint guard(n);
  std::vector<jit::Value*> constants = InsertConstants(graph, *values);
  if (constants.empty()) return {};
  for (size_t i = 0; i < constants.size(); ++i) n->output(i)->replaceAllUsesWith(constants[i]);
  n->destroy();
  return constants;
}

}  // namespace featx
