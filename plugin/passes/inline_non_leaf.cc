// featx.inline_non_leaf: FX's "trace through every module that is not a
// leaf", done on a TorchScript graph by inlining.
//
//   %layer1 : __torch__...Sequential = prim::GetAttr[name="layer1"](%self)
//   %y = prim::CallMethod[name="forward"](%layer1, %x)         # not a leaf
// becomes layer1's code, whose own calls are visited in turn, down to
//   %conv1 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv1"](%_0)
//   %y = prim::CallMethod[name="forward"](%conv1, %x)         # a leaf: kept
//
// What FX evaluates in Python while it traces is evaluated here while the
// code is copied: a plain attribute of a module the model holds is copied
// as its value, a scalar op on constants as its result, and of an `if` on a
// constant only the branch taken is copied. densenet121's layers branch on
// `memory_efficient` and `drop_rate` around code that never runs: its graph
// is a tenth of what copying everything gives, and so is the work of every
// later pass. `training` is left to featx.specialize_training. The folding
// is not a pass of its own because it decides what is copied at all: done
// after the copy, it would first copy the branches it then drops.
#include "plugin/passes/inline_non_leaf.h"

#include <algorithm>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/analysis/fold_constants.h"
#include "plugin/naming/module_path.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// `forward`, or one of its @torch.jit._overload_method overloads, which
// TorchScript compiles as forward__0, forward__1, ... (densenet's layers).
bool IsForward(absl::string_view method) {
  if (method == "forward") return true;
  absl::string_view index = method;
  return absl::ConsumePrefix(&index, "forward__") && !index.empty() &&
         std::all_of(index.begin(), index.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// Builds the inlined graph by appending, never by inserting in the middle:
// torch numbers nodes by position with gaps that halve on every insertion
// at one point, and renumbers the whole block when a gap runs out, so
// splicing callees into place (torch's Inline, insertGraph) renumbers the
// graph every few dozen nodes: quadratic, 1 s at 40k nodes.
class NonLeafInliner {
 public:
  NonLeafInliner(const LeafModules& leaves, const LeafFunctions& functions, const jit::Module* root, bool mark_calls)
      : leaves_(leaves), functions_(functions), root_(root), mark_calls_(mark_calls) {}

  std::shared_ptr<jit::Graph> Run(jit::Graph& forward) {
    // An attribute the code also writes (prim::SetAttr) is not a constant:
    // it is seen written only once the code is copied, and then copied
    // again without folding it (models almost never write their own).
    for (;;) {
      Copy(forward);
      bool refolded = false;
      for (const Attribute& attribute : written_) {
        if (folded_.contains(attribute)) refolded |= never_fold_.insert(attribute).second;
      }
      if (!refolded) return graph_;
    }
  }

 private:
  using Env = absl::flat_hash_map<const jit::Value*, jit::Value*>;
  // An attribute of one module object.
  using Attribute = std::pair<const c10::ivalue::Object*, std::string>;

  void Copy(jit::Graph& forward) {
    graph_ = std::make_shared<jit::Graph>();
    module_paths_ = ModuleValuePaths();
    objects_.clear();
    folded_.clear();
    written_.clear();
    env_.clear();
    decided_.clear();
    Env& env = env_;
    for (jit::Value* input : forward.inputs()) env[input] = graph_->addInput()->copyMetadata(input);
    self_ = graph_->inputs().at(0);
    if (root_ != nullptr) objects_[self_] = root_->_ivalue().get();
    Emit(forward.block(), graph_->block(), nullptr);
    for (jit::Value* output : forward.outputs()) graph_->registerOutput(env.at(output));
  }

  // Appends `from`'s nodes to `into`, inlining every call that is not a
  // leaf's, with `from`'s values mapped by env_. `path` is the module
  // whose code `from` is (nullptr: the root's forward, whose nodes keep
  // their own scopes). Each node is, in this order: an `if` decided while
  // copying, an attribute read folded, a call inlined, or copied.
  void Emit(jit::Block* from, jit::Block* into, const std::string* path) {
    // `path`'s scope, looked up at this block's first copied node (a copy:
    // callees add to scopes_).
    std::optional<jit::ScopePtr> scope;
    for (jit::Node* n : from->nodes()) {
      if (EmitDecidedIf(n, into, path) || FoldAttributeRead(n, into) || EmitInlinedCall(n, into, path)) continue;
      if (path != nullptr && !scope) scope = ScopeFor(*path);
      EmitCopy(n, into, path, scope ? &*scope : nullptr);
    }
  }

  // An `if` whose condition is known while copying: only the branch taken.
  bool EmitDecidedIf(jit::Node* n, jit::Block* into, const std::string* path) {
    if (n->kind() != c10::prim::If) return false;
    std::optional<bool> condition = Decided(n->input(0));
    if (!condition) return false;
    jit::Block* taken = n->blocks()[*condition ? 0 : 1];
    Emit(taken, into, path);
    for (size_t i = 0; i < n->outputs().size(); ++i) env_[n->output(i)] = Mapped(taken->outputs()[i]);
    return true;
  }

  // A plain attribute read of a module object the model holds, as FX reads
  // it in Python: its value, as a constant.
  bool FoldAttributeRead(jit::Node* n, jit::Block* into) {
    if (n->kind() != c10::prim::GetAttr) return false;
    // A flag only `if`s test (MBConv's use_res_connect) decides them here
    // and is never copied: its constant would be dead code.
    decided_.erase(n->output());
    if (OnlyTested(n->output())) {
      Attribute attribute;
      const c10::IValue* flag = FoldableAttribute(n, Mapped(n->input(0)), &attribute);
      if (flag != nullptr && flag->isBool()) {
        decided_[n->output()] = flag->toBool();
        folded_.insert(std::move(attribute));
        return true;
      }
    }
    jit::Value* constant = AttributeValue(n, Mapped(n->input(0)), into);
    if (constant == nullptr) return false;
    env_[n->output()] = constant;
    return true;
  }

  // A call of a non-leaf module's method or of a function that is not a
  // leaf: its code, between call marks when asked for.
  bool EmitInlinedCall(jit::Node* n, jit::Block* into, const std::string* path) {
    std::string callee_path;
    jit::GraphFunction* callee = InlinableCallee(n, path, &callee_path);
    if (callee == nullptr) return false;
    jit::Graph& body = *callee->graph();
    // A function call's first input is the function itself.
    const size_t first = n->kind() == c10::prim::CallFunction ? 1 : 0;
    for (size_t i = 0; i < body.inputs().size(); ++i) env_[body.inputs()[i]] = Mapped(n->input(first + i));
    jit::Node* begin = mark_calls_ && Restorable(n) ? into->appendNode(graph_->create(kCallBegin, 0)) : nullptr;
    Emit(body.block(), into, &callee_path);
    for (size_t i = 0; i < n->outputs().size(); ++i) env_[n->output(i)] = Mapped(body.outputs()[i]);
    if (begin != nullptr) MarkEnd(begin, n, into);
    return true;
  }

  // Any other node: copied (in `scope`, for a callee's code), a scalar op on
  // constants as its result, its blocks emitted in turn.
  void EmitCopy(jit::Node* n, jit::Block* into, const std::string* path, const jit::ScopePtr* scope) {
    const auto mapped = [this](jit::Value* v) { return Mapped(v); };
    jit::Node* copy = into->appendNode(path == nullptr ? graph_->createClone(n, mapped, /*copy_blocks=*/false)
                                                       : CloneWithoutNames(n, *scope));
    if (n->blocks().empty()) {
      std::vector<jit::Value*> folded = FoldScalarOp(*graph_, copy);
      if (!folded.empty()) {
        for (size_t i = 0; i < folded.size(); ++i) env_[n->output(i)] = folded[i];
        return;
      }
    }
    for (size_t i = 0; i < n->outputs().size(); ++i) env_[n->output(i)] = copy->output(i);
    if (copy->kind() == c10::prim::SetAttr) TrackWrite(copy);
    for (jit::Block* b : n->blocks()) {
      jit::Block* block = copy->addBlock();
      for (jit::Value* input : b->inputs()) {
        jit::Value* param = block->addInput();
        param->setType(input->type());
        if (path == nullptr) param->copyMetadata(input);
        env_[input] = param;
      }
      Emit(b, block, path);
      for (jit::Value* output : b->outputs()) block->registerOutput(Mapped(output));
    }
    if (copy->kind() == c10::prim::If) FoldIfBranchesAgree(copy, n, into);
  }

  // A value of the code being copied, in the new graph.
  jit::Value* Mapped(jit::Value* v) const { return env_.at(v); }

  // An `if` whose branches compute nothing and give the same constants, as
  // inception_v3's `self.training and self.aux_logits` does with aux_logits
  // False: FX gets the same value in either mode, so the condition does not
  // matter. Folding it here leaves `training` unread, and the model one
  // graph for both modes instead of two.
  void FoldIfBranchesAgree(jit::Node* copy, jit::Node* n, jit::Block* into) {
    std::vector<c10::IValue> values;
    for (jit::Block* block : copy->blocks()) {
      for (jit::Node* inner : block->nodes()) {
        if (inner->kind() != c10::prim::Constant) return;
      }
      for (size_t i = 0; i < block->outputs().size(); ++i) {
        c10::optional<c10::IValue> value = jit::toIValue(block->outputs()[i]);
        if (!value || !IsPythonScalarType(block->outputs()[i]->type())) return;
        if (i == values.size()) {
          values.push_back(*value);
        } else if (!(values[i] == *value)) {
          return;
        }
      }
    }
    if (values.size() != n->outputs().size()) return;
    jit::WithInsertPoint guard(into);
    std::vector<jit::Value*> constants = InsertConstants(*graph_, values);
    if (constants.size() != values.size()) return;
    for (size_t i = 0; i < constants.size(); ++i) env_[n->output(i)] = constants[i];
    copy->destroy();
  }

  // A call RestoreCalls could put back: of a submodule's method (the root's
  // own methods are not the new forward's), returning one value.
  bool Restorable(jit::Node* call) const {
    if (call->kind() != c10::prim::CallMethod || call->outputs().size() != 1) return false;
    const jit::Value* module = Mapped(call->input(0));
    return module != self_ && module->type()->kind() == c10::TypeKind::ClassType;
  }

  // Closes the marks `begin` opened for `call`, whose code is in `into`
  // after it; a call whose code left no node but constants has none.
  void MarkEnd(jit::Node* begin, jit::Node* call, jit::Block* into) {
    bool only_constants = true;
    for (jit::Node* n = begin->next(); n != into->return_node() && only_constants; n = n->next()) {
      only_constants = n->kind() == c10::prim::Constant;
    }
    if (only_constants) {
      begin->destroy();
      return;
    }
    jit::Node* end = graph_->create(kCallEnd, 0);
    end->s_(c10::attr::name, call->s(c10::attr::name));
    for (jit::Value* input : call->inputs()) end->addInput(Mapped(input));
    end->addInput(Mapped(call->output()));
    into->appendNode(end);
  }

  static std::optional<bool> ConstantBool(jit::Value* v) {
    if (v->node()->kind() != c10::prim::Constant) return std::nullopt;
    c10::optional<c10::IValue> value = jit::toIValue(v);
    if (!value || !value->isBool()) return std::nullopt;
    return value->toBool();
  }

  // Whether a value of the code being copied is only ever an `if`'s
  // condition.
  static bool OnlyTested(const jit::Value* v) {
    return !v->uses().empty() && std::all_of(v->uses().begin(), v->uses().end(), [](const jit::Use& use) {
      return use.user->kind() == c10::prim::If && use.offset == 0;
    });
  }

  // The value of an `if`'s condition (a value of the code being copied), if
  // known while copying.
  std::optional<bool> Decided(jit::Value* condition) const {
    if (auto it = decided_.find(condition); it != decided_.end()) return it->second;
    return ConstantBool(Mapped(condition));
  }

  // What FX sees at `read`, a plain attribute of a module object the model
  // holds (set into `attribute`); nullptr when it stays a read.
  const c10::IValue* FoldableAttribute(const jit::Node* read, jit::Value* owner, Attribute* attribute) {
    // Modules and parameters are most reads, and never constants.
    const c10::TypePtr& type = read->output()->type();
    if (!IsPlainType(type) && type->kind() != c10::TypeKind::OptionalType) return nullptr;
    const std::string& name = read->s(c10::attr::name);
    if (name == "training") return nullptr;
    c10::ivalue::Object* object = ObjectOf(owner);
    if (object == nullptr) return nullptr;
    c10::optional<size_t> slot = object->type()->findAttributeSlot(name);
    *attribute = Attribute(object, name);
    if (!slot || never_fold_.contains(*attribute)) return nullptr;
    return &object->slots()[*slot];
  }

  // FoldableAttribute's value as a constant appended to `into`; nullptr when
  // the read stays.
  jit::Value* AttributeValue(const jit::Node* read, jit::Value* owner, jit::Block* into) {
    Attribute attribute;
    const c10::IValue* value = FoldableAttribute(read, owner, &attribute);
    if (value == nullptr) return nullptr;
    jit::WithInsertPoint guard(into);
    jit::Value* constant = AttributeConstant(*graph_, read->output()->type(), *value);
    if (constant != nullptr) folded_.insert(std::move(attribute));
    return constant;
  }

  // The module object a module value of graph_ holds, found through its
  // GetAttr chain from self (nullptr: not known). Looked up when an attribute
  // of it is read or written, not at every module read: most are of leaves.
  // Memoized for GetAttr values, which inlining never destroys.
  c10::ivalue::Object* ObjectOf(const jit::Value* module) {
    if (auto it = objects_.find(module); it != objects_.end()) return it->second;
    const jit::Node* read = module->node();
    if (read->kind() != c10::prim::GetAttr || module->type()->kind() != c10::TypeKind::ClassType) return nullptr;
    c10::ivalue::Object* object = nullptr;
    if (c10::ivalue::Object* owner = ObjectOf(read->input(0))) {
      c10::optional<size_t> slot = owner->type()->findAttributeSlot(read->s(c10::attr::name));
      if (slot && owner->slots()[*slot].isObject()) object = &owner->slots()[*slot].toObjectRef();
    }
    objects_.emplace(module, object);
    return object;
  }

  // Which attributes of the model's module objects the copied code writes.
  void TrackWrite(const jit::Node* write) {
    if (c10::ivalue::Object* object = ObjectOf(write->input(0))) {
      written_.emplace(object, write->s(c10::attr::name));
    }
  }

  // A node of an inlined callee, in `scope`, and without its values' debug
  // names: createClone copies them, and a name the graph has already (`x`,
  // `out.1` in every block) is made unique by a search through numbered
  // suffixes, on every copy: that was a third of inlining. The code torch
  // prints for the rewritten model names values itself. Nodes of Node's
  // subclasses (none in a saved model's forward) are cloned whole.
  jit::Node* CloneWithoutNames(jit::Node* n, const jit::ScopePtr& scope) {
    if (typeid(*n) != typeid(jit::Node)) {
      jit::Node* copy = graph_->createClone(
          n, [this](jit::Value* v) { return Mapped(v); }, /*copy_blocks=*/false);
      copy->setScope(scope);
      return copy;
    }
    jit::Node* copy = graph_->create(n->kind(), /*num_outputs=*/0);
    copy->copyAttributes(*n);
    copy->setSourceRange(n->sourceRange());
    copy->setScope(scope);
    if (n->callstack()) copy->setCallStack(*n->callstack());
    for (jit::Value* input : n->inputs()) copy->addInput(Mapped(input));
    for (jit::Value* output : n->outputs()) copy->addOutput()->setType(output->type());
    return copy;
  }

  // The function to inline at `call` and the module path its code runs in,
  // or nullptr when `call` stays. A module value's path is read from the
  // call's inputs in the new graph.
  jit::GraphFunction* InlinableCallee(jit::Node* call, const std::string* path, std::string* callee_path) {
    // The module whose code the call is in, for callees traced in its name.
    const auto caller_path = [&] { return path != nullptr ? *path : ModulePath(call); };
    if (call->kind() == c10::prim::CallMethod) {
      jit::Value* module = Mapped(call->input(0));
      // An interface-typed submodule (torch.jit.interface) is called through
      // the interface; FX sees the module object there, so featx does too.
      if (module->type()->kind() == c10::TypeKind::InterfaceType && !ResolveInterface(module)) return nullptr;
      auto type = module->type()->cast<c10::ClassType>();
      if (!type) return nullptr;
      const std::string& method = call->s(c10::attr::name);
      // A method other than forward is not a module call to FX (only
      // __call__ is): it traces through it whatever the class, and its nodes
      // belong to the caller's module (`self.skip_add.add(x, y)` of a
      // quantized FloatFunctional gives `features.3.add`).
      if (!IsForward(method)) {
        *callee_path = caller_path();
      } else {
        // The root module's own methods are always traced through, as FX
        // traces the root whatever its class.
        if (module != self_ && IsLeaf(type.get())) return nullptr;
        const std::optional<std::string>& module_path = module_paths_.Of(module);
        *callee_path = module_path ? *module_path : caller_path();
      }
      jit::Function* function = type->findMethod(method);
      return function != nullptr ? jit::tryToGraphFunction(*function) : nullptr;
    }
    if (call->kind() == c10::prim::CallFunction) {
      auto fn_type = call->input(0)->type()->cast<c10::FunctionType>();
      if (!fn_type || functions_.IsLeaf(fn_type->function()->qualname().qualifiedName())) return nullptr;
      *callee_path = caller_path();
      return jit::tryToGraphFunction(call);
    }
    return nullptr;
  }

  // Retypes an interface-typed module value to the class of the object the
  // model holds at its path; false when there is no model or no such path
  // (then the call stays, as a leaf would).
  bool ResolveInterface(jit::Value* module) {
    const std::optional<std::string> path = module_paths_.Of(module);
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
    if (inserted) it->second = ModulePathScope(path, root_scope_);
    return it->second;
  }

  std::shared_ptr<jit::Graph> graph_;
  // Each value of the code being copied -> its copy. One map for every
  // callee: a callee copied again (every block of a model runs the same
  // code) overwrites its values before it reads them, as code defines each
  // value before its uses. One map, not one per call: allocation was a
  // third of copying.
  Env env_;
  // Conditions of the code being copied decided by a flag that is never
  // copied (kept like env_: each value is set before it is read).
  absl::flat_hash_map<const jit::Value*, bool> decided_;
  ModuleValuePaths module_paths_;
  // ObjectOf's answers. (Raw pointers: the root module holds them all while
  // the rewrite runs.)
  absl::flat_hash_map<const jit::Value*, c10::ivalue::Object*> objects_;
  absl::flat_hash_set<Attribute> folded_, written_, never_fold_;
  jit::Value* self_ = nullptr;
  const LeafModules& leaves_;
  const LeafFunctions& functions_;
  const jit::Module* root_;
  const bool mark_calls_;
  absl::flat_hash_map<std::string, jit::ScopePtr> scopes_;
  const jit::ScopePtr root_scope_ = c10::make_intrusive<jit::Scope>();
  absl::flat_hash_map<const c10::ClassType*, bool> is_leaf_;
};

}  // namespace

void InlineNonLeaf(std::shared_ptr<jit::Graph>& graph, const LeafModules& leaves, const jit::Module* root,
                   bool mark_calls, const LeafFunctions& functions) {
  graph = NonLeafInliner(leaves, functions, root, mark_calls).Run(*graph);
  GRAPH_DUMP("After featx InlineNonLeaf: ", graph);
}

namespace {

absl::Status InlineNonLeafStep(Rewrite& rewrite) {
  if (!rewrite.module.find_method("forward")) {
    return absl::InvalidArgumentError(absl::StrCat("module of class ", PythonClassName(*rewrite.module.type()),
                                                   " has no forward method; featx names the nodes of forward"));
  }
  return TorchCall([&] {
    jit::Method forward = rewrite.module.get_method("forward");
    rewrite.input_names.clear();
    for (const c10::Argument& arg : forward.function().getSchema().arguments()) {
      rewrite.input_names.push_back(arg.name());
    }
    rewrite.input_names.erase(rewrite.input_names.begin());  // self
    // InlineNonLeaf builds a new graph: forward's own is only read.
    rewrite.inlined = forward.graph();
    const std::vector<std::string>& planned = rewrite.passes_planned;
    const bool restore = std::find(planned.begin(), planned.end(), "featx.restore_calls") != planned.end();
    InlineNonLeaf(rewrite.inlined, rewrite.leaves, &rewrite.module, /*mark_calls=*/restore, rewrite.leaf_functions);
  });
}

const PassRegistration kRegistration({{"featx.inline_non_leaf",
                                       "copies forward's graph as FX traces it: every call inlined but leaf "
                                       "calls, and what FX evaluates in Python (module attributes, scalar ops "
                                       "and branches on constants) folded",
                                       Stage::kModule, Stage::kInlined},
                                      InlineNonLeafStep});

}  // namespace

}  // namespace featx
