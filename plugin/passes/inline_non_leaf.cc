// featx.inline_non_leaf: FX's "trace through every module that is not a
// leaf", done on a TorchScript graph by inlining.
//
//   %layer1 : __torch__...Sequential = prim::GetAttr[name="layer1"](%self)
//   %y = prim::CallMethod[name="forward"](%layer1, %x)         # not a leaf
// becomes layer1's code, whose own calls are visited in turn, down to
//   %conv1 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv1"](%_0)
//   %y = prim::CallMethod[name="forward"](%conv1, %x)         # a leaf: kept
#include <algorithm>
#include <optional>
#include <string>

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/module_path.h"
#include "plugin/passes/passes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// FX does not trace into these: torch.nn.functional calls are single nodes
// through __torch_function__, torchvision adds torchvision.ops to its
// autowrapped modules, and torchvision's models torch.fx.wrap a few of their
// own functions (torchvision 0.14).
bool IsLeafFunction(const jit::Node* call) {
  static const absl::flat_hash_set<std::string> kWrapped = {
      "__torch__.torchvision.models.swin_transformer._patch_merging_pad",
      "__torch__.torchvision.models.swin_transformer._get_relative_position_bias",
      "__torch__.torchvision.models.swin_transformer.shifted_window_attention",
      "__torch__.torchvision.models.video.mvit._unsqueeze",
      "__torch__.torchvision.models.video.mvit._squeeze",
      "__torch__.torchvision.models.video.mvit._add_rel_pos",
      "__torch__.torchvision.models.video.mvit._add_shortcut",
  };
  auto fn_type = call->input(0)->type()->cast<c10::FunctionType>();
  if (!fn_type) return false;
  const std::string name = fn_type->function()->qualname().qualifiedName();
  return absl::StartsWith(name, "__torch__.torch.nn.functional.") ||
         absl::StartsWith(name, "__torch__.torchvision.ops.") || kWrapped.contains(name);
}

// `forward`, or one of its @torch.jit._overload_method overloads, which
// TorchScript compiles as forward__0, forward__1, ... (densenet's layers).
bool IsForward(absl::string_view method) {
  if (method == "forward") return true;
  absl::string_view index = method;
  return absl::ConsumePrefix(&index, "forward__") && !index.empty() &&
         std::all_of(index.begin(), index.end(), [](char c) { return absl::ascii_isdigit(c); });
}

void MarkModulePath(jit::Node* begin, jit::Node* end, const jit::ScopePtr& scope) {
  for (jit::Node* n = begin; n != end; n = n->next()) {
    n->setScope(scope);
    for (jit::Block* b : n->blocks()) {
      MarkModulePath(b->nodes().front(), b->return_node(), scope);
    }
  }
}

class NonLeafInliner {
 public:
  NonLeafInliner(jit::Graph& graph, const LeafModules& leaves, const jit::Module* root)
      : self_(graph.inputs().at(0)), leaves_(leaves), root_(root) {}

  void Run(jit::Block* block) {
    for (auto it = block->nodes().begin(); it != block->nodes().end();) {
      jit::Node* call = *it;
      std::string callee_path;
      jit::GraphFunction* callee = InlinableCallee(call, &callee_path);
      if (callee == nullptr) {
        for (jit::Block* b : call->blocks()) Run(b);
        ++it;
        continue;
      }
      jit::Node* before = call->prev();
      jit::Node* after = call->next();
      // A function call's first input is the function itself.
      if (call->kind() == c10::prim::CallFunction) call->removeInput(0);
      // The callee's own graph, not its optimized one: that one has every call
      // inlined already, leaves included. insertGraph rather than
      // inlineCallTo: featx keeps module paths itself and does not need the
      // inlined call stacks, which cost half the time of naming a model.
      {
        jit::WithInsertPoint guard(call);
        std::vector<jit::Value*> outputs = jit::insertGraph(*call->owningGraph(), *callee->graph(), call->inputs());
        for (size_t i = 0; i < outputs.size(); ++i) call->outputs()[i]->replaceAllUsesWith(outputs[i]);
        call->destroy();
      }
      MarkModulePath(before->next(), after, ScopeFor(callee_path));
      // Visit what was inlined: it holds the callee's own calls.
      it = jit::graph_node_list_iterator(before->next(), jit::kNextDirection);
    }
  }

 private:
  // The function to inline at `call` and the module path its code runs in,
  // or nullptr when `call` stays.
  jit::GraphFunction* InlinableCallee(jit::Node* call, std::string* callee_path) {
    if (call->kind() == c10::prim::CallMethod) {
      jit::Value* module = call->input(0);
      // An interface-typed submodule (torch.jit.interface) is called through
      // the interface; FX sees the module object there, so featx does too.
      if (module->type()->kind() == c10::TypeKind::InterfaceType && !ResolveInterface(module)) return nullptr;
      // A method other than forward is not a module call to FX (only
      // __call__ is): it traces through it whatever the class, and its nodes
      // belong to the caller's module (`self.skip_add.add(x, y)` of a
      // quantized FloatFunctional gives `features.3.add`).
      if (!IsForward(call->s(c10::attr::name))) {
        *callee_path = ModulePath(call);
        return jit::tryToGraphFunction(call);
      }
      // The root module's own methods are always traced through, as FX
      // traces the root whatever its class.
      if (module != self_ && IsLeaf(module->type()->expect<c10::ClassType>().get())) return nullptr;
      *callee_path = ModuleValuePath(module).value_or(ModulePath(call));
    } else if (call->kind() == c10::prim::CallFunction) {
      if (IsLeafFunction(call)) return nullptr;
      *callee_path = ModulePath(call);
    } else {
      return nullptr;
    }
    return jit::tryToGraphFunction(call);
  }

  // Retypes an interface-typed module value to the class of the object the
  // model holds at its path; false when there is no model or no such path
  // (then the call stays, as a leaf would).
  bool ResolveInterface(jit::Value* module) {
    const std::optional<std::string> path = ModuleValuePath(module);
    if (root_ == nullptr || !path) return false;
    c10::IValue object = root_->_ivalue();
    for (absl::string_view name : absl::StrSplit(*path, '.', absl::SkipEmpty())) {
      if (!object.isObject() || !object.toObjectRef().type()->hasAttribute(std::string(name))) return false;
      object = object.toObjectRef().getAttr(std::string(name));
    }
    if (!object.isObject()) return false;
    module->setType(object.toObjectRef().type());
    return true;
  }

  // Module classes repeat (every Conv2d of a model): decide each once.
  bool IsLeaf(const c10::ClassType* type) {
    auto [it, inserted] = is_leaf_.try_emplace(type, false);
    if (inserted) it->second = leaves_.IsLeaf(*type);
    return it->second;
  }

  // One scope per module path, shared by all of its nodes.
  const jit::ScopePtr& ScopeFor(const std::string& path) {
    auto [it, inserted] = scopes_.try_emplace(path);
    if (inserted) it->second = ModulePathScope(path);
    return it->second;
  }

  jit::Value* self_;
  const LeafModules& leaves_;
  const jit::Module* root_;
  absl::flat_hash_map<std::string, jit::ScopePtr> scopes_;
  absl::flat_hash_map<const c10::ClassType*, bool> is_leaf_;
};

}  // namespace

void InlineNonLeaf(std::shared_ptr<jit::Graph>& graph, const LeafModules& leaves, const jit::Module* root) {
  NonLeafInliner(*graph, leaves, root).Run(graph->block());
  GRAPH_DUMP("After featx InlineNonLeaf: ", graph);
}

}  // namespace featx
