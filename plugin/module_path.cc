#include "plugin/module_path.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"

namespace featx {

namespace jit = ::torch::jit;

jit::ScopePtr ModulePathScope(absl::string_view path) {
  jit::ScopePtr root = c10::make_intrusive<jit::Scope>();
  return path.empty() ? root : root->push(c10::Symbol::scope(std::string(path)));
}

void SetModulePath(jit::Node* node, absl::string_view path) { node->setScope(ModulePathScope(path)); }

std::string ModulePath(const jit::Node* node) {
  // Node::scope() is not const-qualified in libtorch 1.13.
  const jit::ScopePtr scope = const_cast<jit::Node*>(node)->scope();
  if (!scope || scope->isRoot()) return "";
  return scope->name().toUnqualString();
}

std::optional<std::string> ModuleValuePath(const jit::Value* module_value) {
  const jit::Value* self =
      module_value->owningGraph()->inputs().empty() ? nullptr : module_value->owningGraph()->inputs()[0];
  std::vector<std::string> parts;
  const jit::Value* v = module_value;
  while (v != self) {
    const jit::Node* n = v->node();
    if (n->kind() != c10::prim::GetAttr) return std::nullopt;
    parts.push_back(n->s(c10::attr::name));
    v = n->input(0);
  }
  std::reverse(parts.begin(), parts.end());
  return absl::StrJoin(parts, ".");
}

}  // namespace featx
