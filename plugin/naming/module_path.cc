#include "plugin/naming/module_path.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace featx {

namespace jit = ::torch::jit;

jit::ScopePtr ModulePathScope(absl::string_view path, jit::ScopePtr root) {
  if (!root) root = c10::make_intrusive<jit::Scope>();
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

const std::optional<std::string>& ModuleValuePaths::Of(const jit::Value* module_value) {
  if (auto it = paths_.find(module_value); it != paths_.end()) return it->second;
  std::optional<std::string> path = OfUsedOnce(module_value);
  return paths_.insert_or_assign(module_value, std::move(path)).first->second;
}

std::optional<std::string> ModuleValuePaths::OfUsedOnce(const jit::Value* module_value) {
  if (auto it = paths_.find(module_value); it != paths_.end()) return it->second;
  const jit::Graph* graph = module_value->owningGraph();
  const jit::Node* n = module_value->node();
  if (!graph->inputs().empty() && module_value == graph->inputs()[0]) return "";
  if (n->kind() != c10::prim::GetAttr) return std::nullopt;
  const std::optional<std::string>& owner = Of(n->input(0));
  if (!owner) return std::nullopt;
  return owner->empty() ? n->s(c10::attr::name) : absl::StrCat(*owner, ".", n->s(c10::attr::name));
}

}  // namespace featx
