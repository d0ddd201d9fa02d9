#include "plugin/pipeline/install_forward.h"

#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/api/function_impl.h>

#include "plugin/status.h"

namespace featx {

namespace jit = ::torch::jit;

namespace {

// Points every function `graph` calls (and they call) at a copy in `cu`.
// The rewritten graph is built from the model's, whose prim::CallFunction
// constants hold raw pointers into the model's compilation unit; the new
// module must not depend on that unit outliving it (a model without
// submodules is the only owner of its unit).
void CopyCalledFunctions(jit::Block* block, jit::CompilationUnit& cu,
                         std::unordered_map<const jit::Function*, jit::Function*>* copies) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* b : n->blocks()) CopyCalledFunctions(b, cu, copies);
    if (n->kind() != c10::prim::Constant) continue;
    auto function_type = n->output()->type()->cast<c10::FunctionType>();
    if (function_type == nullptr) continue;
    const jit::Function* original = function_type->function();
    auto it = copies->find(original);
    if (it == copies->end()) {
      std::shared_ptr<jit::Graph> graph = jit::toGraphFunction(*const_cast<jit::Function*>(original)).graph()->copy();
      CopyCalledFunctions(graph->block(), cu, copies);
      jit::Function* copy = cu.find_function(original->qualname());
      if (copy == nullptr) copy = cu.create_function(original->qualname(), graph);
      it = copies->emplace(original, copy).first;
    }
    n->output()->setType(c10::FunctionType::create(it->second));
  }
}

// forward's schema as callers know it: the model's argument names, default
// values and keyword use; only self's type and what it returns are new. A
// graph-made function would get a schema without defaults, and
// `model(x)` of `forward(self, x, scale: float = 2.0)` would fail.
std::optional<c10::FunctionSchema> CallersSchema(const jit::Module& module, const c10::ClassTypePtr& self,
                                                 const jit::Graph& graph) {
  const auto original = module.find_method("forward");  // c10::optional in 1.13
  if (!original || graph.outputs().size() != 1) return std::nullopt;
  const c10::FunctionSchema& schema = original->function().getSchema();
  if (schema.arguments().size() != graph.inputs().size() || schema.is_vararg()) return std::nullopt;
  std::vector<c10::Argument> arguments = schema.arguments();
  arguments[0] = arguments[0].cloneWithType(self);
  return schema.cloneWithArguments(std::move(arguments))
      .cloneWithReturns({c10::Argument("", graph.outputs()[0]->type())});
}

}  // namespace

absl::StatusOr<jit::Module> WithForward(const jit::Module& module, std::shared_ptr<jit::Graph> graph) {
  return TorchCall([&] {
    const c10::ClassTypePtr& type = module.type();
    // Its own unit: the model's is shared with every copy and with requests
    // in flight, and would keep each new class until the model is freed.
    auto cu = std::make_shared<jit::CompilationUnit>();
    jit::Module extractor(*type->name(), cu, /*shouldMangle=*/true);
    for (size_t i = 0; i < type->numAttributes(); ++i) {
      const std::string& name = type->getAttributeName(i);
      const c10::IValue value = module._ivalue()->getSlot(i);
      if (type->getAttribute(i)->is_module()) {
        extractor.register_module(name, jit::Module(value.toObject()));
      } else {
        extractor.register_attribute(name, type->getAttribute(i), value, type->is_parameter(i), type->is_buffer(i));
      }
    }
    for (size_t i = 0; i < type->numConstants(); ++i) {
      extractor.type()->addConstant(type->getConstantName(i), type->getConstant(i));
    }
    graph->inputs()[0]->setType(extractor.type());
    std::unordered_map<const jit::Function*, jit::Function*> copies;
    CopyCalledFunctions(graph->block(), *cu, &copies);
    jit::Function* forward = cu->create_function(c10::QualifiedName(*extractor.type()->name(), "forward"), graph);
    if (std::optional<c10::FunctionSchema> schema = CallersSchema(module, extractor.type(), *graph)) {
      forward->setSchema(*std::move(schema));
    }
    extractor.type()->addMethod(forward);
    // libtorch builds a function's schema lazily on first call, unguarded:
    // a server's threads calling the new model at once race on it (TSan,
    // tests/host/hot_swap_test). Build it here, before anyone can call.
    forward->getSchema();
    return extractor;
  });
}

}  // namespace featx
