#include "plugin/install_forward.h"

#include <torch/csrc/jit/api/function_impl.h>

#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {

namespace jit = ::torch::jit;

absl::Status InstallForward(jit::Module& module, std::shared_ptr<jit::Graph> graph) {
  const c10::ClassTypePtr& type = module.type();
  std::shared_ptr<jit::CompilationUnit> cu = module._ivalue()->compilation_unit();
  const c10::QualifiedName name(*type->name(), "forward");
  jit::Function* old = type->findMethod("forward");
  if (old == nullptr) return absl::InvalidArgumentError("module has no forward method to replace");
  std::shared_ptr<jit::Graph> old_graph = jit::toGraphFunction(*old).graph();
  auto install = [&](std::shared_ptr<jit::Graph> g) {
    type->unsafeRemoveMethod("forward");
    cu->unsafeRemoveMethod(name);
    type->addMethod(cu->create_function(name, std::move(g)));
  };
  absl::Status status = TorchCall([&] { install(std::move(graph)); });
  if (!status.ok()) {
    // Put the model back as it was before reporting.
    if (type->findMethod("forward") == nullptr) {
      if (cu->find_function(name) != nullptr) cu->unsafeRemoveMethod(name);
      type->addMethod(cu->create_function(name, old_graph));
    }
    return absl::InternalError(absl::StrCat("could not install the rewritten forward: ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<jit::Module> WithForward(const jit::Module& module, std::shared_ptr<jit::Graph> graph) {
  return TorchCall([&] {
    const c10::ClassTypePtr& type = module.type();
    std::shared_ptr<jit::CompilationUnit> cu = module._ivalue()->compilation_unit();
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
    extractor.type()->addMethod(cu->create_function(c10::QualifiedName(*extractor.type()->name(), "forward"), graph));
    return extractor;
  });
}

}  // namespace featx
