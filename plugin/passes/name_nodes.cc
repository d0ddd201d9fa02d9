// featx.name_nodes: torchvision's NodePathTracer names on an inlined graph.
//
// What FX would record as a node, and the name torchvision gives it:
//   graph input %x.1                          -> "x"
//   prim::CallMethod on a leaf at layer1.0.conv1 -> "layer1.0.conv1"
//   aten::add_ in layer1.0's code             -> "layer1.0.add"
//   prim::CallFunction of F.relu at the root  -> "relu"
//   prim::GetAttr of a Tensor in features.1.0 -> "features.1.0.features_1_0_layer_scale"
//   prim::ListUnpack of stage2.1's aten::chunk -> "stage2.1.getitem", "stage2.1.getitem_1"
// then torchvision's suffix rule (_get_node_qualname): strip a trailing
// `_<digits>`, and count repeats of a name with `_1`, `_2`, ...
#include "plugin/passes/name_nodes.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/analysis/call_marks.h"
#include "plugin/analysis/fold_constants.h"
#include "plugin/naming/concrete_args.h"
#include "plugin/naming/fx_node_name.h"
#include "plugin/naming/local_suffixes.h"
#include "plugin/naming/module_path.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Nodes FX never records: Python-level structure that runs at trace time.
bool IsStructural(const jit::Node* n) {
  static const absl::flat_hash_set<c10::Symbol> kStructural = {
      c10::prim::Constant,
      kCallBegin,
      kCallEnd,
      c10::prim::ListConstruct,
      c10::prim::TupleConstruct,
      c10::prim::DictConstruct,
      c10::prim::Loop,
      c10::prim::RaiseException,
      c10::prim::Uninitialized,
      c10::prim::unchecked_cast,
      c10::prim::SetAttr,
      c10::aten::Int,
      c10::aten::Float,
      c10::aten::Bool,
      c10::aten::ScalarImplicit,
      c10::prim::NumToTensor,
      c10::aten::warn,
      c10::prim::Print,
      c10::aten::__is__,
      c10::aten::__isnot__,
      c10::prim::isinstance,
      c10::aten::format,
      c10::aten::append,
      c10::aten::str,
      c10::prim::Enter,
      c10::prim::Exit,
      c10::aten::__not__,
      c10::prim::requires_grad,
      c10::aten::list,
      c10::aten::dict,  // OrderedDict(), {}: a Python dict at trace time
      // Loop bookkeeping TorchScript emits for `for i in range(n)`.
      c10::aten::__range_length,
      c10::aten::__derive_index,
  };
  return kStructural.contains(n->kind());
}

// Operations on a dict or list itself: FX records them only when the
// container is a Proxy (a traced op made it, or forward took it); on one the
// code built (OrderedDict(), [a, b], `[x2, x1] + children`) or read from a
// module attribute (IntermediateLayerGetter's return_layers) they run in
// Python at trace time.
bool IsContainerOp(const jit::Node* n) {
  static const absl::flat_hash_set<c10::Symbol>* const kContainerOps = [] {
    auto* ops = new absl::flat_hash_set<c10::Symbol>;
    for (const char* op : {"__getitem__", "_set_item", "__contains__", "keys",  "values", "items", "len",   "get",
                           "pop",         "update",    "setdefault",   "copy",  "add",    "mul",   "slice", "extend",
                           "insert",      "reverse",   "count",        "index", "clear",  "remove"}) {
      ops->insert(c10::Symbol::aten(op));
    }
    return ops;
  }();
  if (n->inputs().empty() || !kContainerOps->contains(n->kind())) return false;
  const c10::TypeKind container = n->input(0)->type()->kind();
  return container == c10::TypeKind::DictType || container == c10::TypeKind::ListType;
}

// Where `n` came from in the model's Python source: a loaded model's nodes
// point into its printed code, which its debug information maps back.
std::optional<jit::SourceRange> PythonSourceRange(const jit::Node* n) {
  const jit::SourceRange& range = n->sourceRange();
  if (range.source() == nullptr) return std::nullopt;
  if (auto original = range.findSourceRangeThatGenerated()) return *original;
  return range;
}

// `x[:, :c]` is one getitem to FX (one operator.getitem with a tuple of
// slices) and a chain of aten::slice / select / unsqueeze (for `None`) to
// TorchScript, each link used once by the next and carrying the subscript's
// own source range. All links but the last are not nodes; the last one's
// value is the getitem's. Without debug information (a model saved with its
// *.debug_pkl removed) the ranges point into the printed code, where each
// link is its own expression, and each link stays a getitem.
bool IsInnerSubscriptLink(const jit::Node* n) {
  static const absl::flat_hash_set<c10::Symbol> kIndexing = {c10::aten::slice, c10::aten::select, c10::aten::unsqueeze,
                                                             c10::aten::index};
  if (!kIndexing.contains(n->kind()) || n->outputs().size() != 1 || n->output()->uses().size() != 1) return false;
  const jit::Node* next = n->output()->uses()[0].user;
  if (!kIndexing.contains(next->kind()) || next->input(0) != n->output()) return false;
  const std::optional<jit::SourceRange> here = PythonSourceRange(n);
  const std::optional<jit::SourceRange> there = PythonSourceRange(next);
  return here && there && here->source() == there->source() && here->start() == there->start() &&
         here->end() == there->end() && n->callstack() == next->callstack();
}

// `torch._assert(cond, msg)`, which FX records as one `_assert` call when
// `cond` is a Proxy, is TorchScript's `assert cond, msg`: an `if` with one
// empty branch and one that raises. The raising one, or nullptr if `n` is
// no assertion.
const jit::Block* AssertionRaise(const jit::Node* n) {
  if (n->kind() != c10::prim::If || n->outputs().size() != 0) return nullptr;
  auto empty = [](const jit::Block* b) { return b->nodes().begin() == b->nodes().end(); };
  auto raises = [&](const jit::Block* b) {
    return !empty(b) && b->return_node()->prev()->kind() == c10::prim::RaiseException;
  };
  const jit::Block* then_block = n->blocks()[0];
  const jit::Block* else_block = n->blocks()[1];
  if (empty(then_block) && raises(else_block)) return else_block;
  if (raises(then_block) && empty(else_block)) return then_block;
  return nullptr;
}

// featx.concrete_args' check that a call passes the value an argument was
// fixed to: the comparison and the assertion on it, at the top of forward.
struct ArgumentCheck {
  jit::Node* compare;
  jit::Node* assertion;
};

std::optional<ArgumentCheck> ConcreteArgumentCheck(jit::Node* compare) {
  if (compare->kind() != c10::aten::__is__ && compare->kind() != c10::aten::eq) return std::nullopt;
  if (compare->input(0)->node()->kind() != c10::prim::Param || !compare->output()->hasUses()) return std::nullopt;
  jit::Node* assertion = compare->output()->uses()[0].user;
  const jit::Block* raise = AssertionRaise(assertion);
  if (raise == nullptr || assertion->input(0) != compare->output()) return std::nullopt;
  std::optional<c10::IValue> message = jit::toIValue(raise->return_node()->prev()->input(0));
  if (!message || !message->isString() || !absl::StrContains(message->toStringRef(), kSpecializedMarker)) {
    return std::nullopt;
  }
  return ArgumentCheck{compare, assertion};
}

// Python values FX computes at trace time from values that are not Proxies
// (an assertion's message, `len(a_list) > 0`), never nodes.
bool MakesOnlyPythonScalars(const jit::Node* n) {
  return !n->outputs().empty() && std::all_of(n->outputs().begin(), n->outputs().end(),
                                              [](const jit::Value* v) { return IsPythonScalarType(v->type()); });
}

std::string OpName(const jit::Node* n) {
  return n->kind() == c10::prim::CallFunction ? FxFunctionName(n) : FxOpName(n);
}

std::string Join(const std::string& path, absl::string_view leaf) {
  return path.empty() ? std::string(leaf) : absl::StrCat(path, ".", leaf);
}

class NodeNamer {
 public:
  explicit NodeNamer(std::vector<NamedNode>* out) : out_(out) {}

  void Add(std::string qualname, jit::Node* node, jit::Value* value) {
    out_->push_back({suffixes_.Unique(std::move(qualname)), node, value});
    if (value != nullptr) {
      traced_.insert(value);
    } else if (node != nullptr) {
      for (jit::Value* output : node->outputs()) traced_.insert(output);
    }
  }

  void AddCheck(const ArgumentCheck& check) {
    // FX: `_assert_is_none(x)` for None, `_assert(eq(x, value))` otherwise.
    const bool is_none = check.compare->kind() == c10::aten::__is__;
    if (!is_none) Add("eq", check.compare, check.compare->output());
    Add(is_none ? "_assert_is_none" : "_assert", check.assertion, nullptr);
    checks_.insert(check.compare);
    checks_.insert(check.assertion);
  }

  void NameBlock(jit::Block* block) {
    for (jit::Node* n : block->nodes()) {
      if (checks_.contains(n)) continue;
      NameNode(n);
      for (jit::Block* b : n->blocks()) NameBlock(b);
    }
  }

 private:
  // The module path of `n`'s scope; nodes in a row share one.
  const std::string& PathOf(jit::Node* n) {
    if (jit::ScopePtr scope = n->scope(); scope != last_scope_) {
      last_path_ = ModulePath(n);
      last_scope_ = std::move(scope);
    }
    return last_path_;
  }

  void NameNode(jit::Node* n) {
    const std::string& path = PathOf(n);
    jit::Value* value = n->outputs().size() == 1 ? n->output() : nullptr;
    switch (n->kind()) {
      case c10::prim::CallMethod: {
        // Only leaf calls remain after InlineNonLeaf.
        std::optional<std::string> module_path = module_paths_.OfUsedOnce(n->input(0));
        Add(module_path ? *std::move(module_path) : Join(path, n->s(c10::attr::name)), n, value);
        return;
      }
      case c10::prim::GetAttr: {
        // FX names parameter reads (Tracer.getattr makes a proxy); a buffer
        // becomes a get_attr node only where an op takes it as an argument,
        // which torchvision's NodePathTracer does not record.
        // A module is never a parameter (and most reads are of modules).
        if (n->output()->type()->kind() == c10::TypeKind::ClassType) return;
        auto owner_type = n->input(0)->type()->cast<c10::ClassType>();
        const std::string& attr = n->s(c10::attr::name);
        if (!owner_type || !owner_type->hasAttribute(attr) ||
            !owner_type->is_parameter(owner_type->getAttributeSlot(attr))) {
          return;
        }
        const std::optional<std::string>& owner = module_paths_.Of(n->input(0));
        if (!owner) return;
        // FX makes one get_attr node per parameter, at its first use.
        const std::string target = Join(*owner, attr);
        if (!attrs_seen_.insert(target).second) return;
        Add(Join(path, FxGetAttrName(target)), n, value);
        return;
      }
      case c10::prim::ListUnpack:
      case c10::prim::TupleUnpack:
        // `a, b = x.chunk(2)` on a traced value: FX's Proxy.__iter__ sees the
        // UNPACK_SEQUENCE and records one getitem per element, in order
        // (torch 2.x; FX in 1.13 cannot iterate a Proxy on Python 3.11 and
        // has no reference then). Unpacking a Python tuple, e.g. what an
        // inlined forward returned, records nothing.
        if (!traced_.contains(n->input(0))) return;
        for (jit::Value* element : n->outputs()) Add(Join(path, "getitem"), n, element);
        return;
      case c10::prim::If:
        if (AssertionRaise(n) != nullptr && IsTracedCondition(n->input(0))) Add(Join(path, "_assert"), n, nullptr);
        return;
      case c10::prim::device:
      case c10::prim::dtype:
        // `x.device` is an FX Attribute proxy, a getattr node once something
        // uses it (an op's argument, str()); unused, it is never made.
        if (traced_.contains(n->input(0)) && n->output()->hasUses()) Add(Join(path, "getattr"), n, value);
        return;
      default:
        if (IsStructural(n) || IsInnerSubscriptLink(n)) return;
        if (MakesOnlyPythonScalars(n) && std::none_of(n->inputs().begin(), n->inputs().end(),
                                                      [&](const jit::Value* v) { return traced_.contains(v); })) {
          return;
        }
        if (IsContainerOp(n) && !traced_.contains(n->input(0))) {
          // What comes out is what the code put in: a tensor is a Proxy.
          if (value != nullptr && value->type()->isSubtypeOf(*c10::TensorType::get())) traced_.insert(value);
          return;
        }
        Add(Join(path, OpName(n)), n, value);
    }
  }

  // `torch._assert` takes a bool or a tensor (`assert bool(t)` in TorchScript).
  bool IsTracedCondition(const jit::Value* condition) const {
    if (traced_.contains(condition)) return true;
    const jit::Node* maker = condition->node();
    return maker->kind() == c10::aten::Bool && traced_.contains(maker->input(0));
  }

  jit::ScopePtr last_scope_;
  std::string last_path_;
  std::vector<NamedNode>* out_;
  LocalSuffixes suffixes_;
  ModuleValuePaths module_paths_;
  absl::flat_hash_set<std::string> attrs_seen_;
  // Nodes named with the forward argument they check.
  absl::flat_hash_set<const jit::Node*> checks_;
  // Values FX would hold as Proxies: the named nodes' outputs and inputs.
  absl::flat_hash_set<const jit::Value*> traced_;
};

}  // namespace

std::vector<NamedNode> NameNodes(const std::shared_ptr<jit::Graph>& graph,
                                 const std::vector<std::string>& input_names) {
  std::vector<NamedNode> names;
  NodeNamer namer(&names);
  // Forward's arguments after `self`, as FX's placeholders, each followed
  // by its concrete_args check as FX records them.
  for (size_t i = 1; i < graph->inputs().size(); ++i) {
    jit::Value* input = graph->inputs()[i];
    std::string name = i - 1 < input_names.size() ? input_names[i - 1] : input->debugNameBase();
    namer.Add(name.empty() ? absl::StrCat("input_", i) : name, nullptr, input);
    for (const jit::Use& use : input->uses()) {
      if (std::optional<ArgumentCheck> check = ConcreteArgumentCheck(use.user)) namer.AddCheck(*check);
    }
  }
  namer.NameBlock(graph->block());
  return names;
}

namespace {

absl::Status NameNodesStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    part.named.nodes = NameNodes(part.named.graph, rewrite.input_names);
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.name_nodes", "torchvision's NodePathTracer names for each mode's nodes",
                                       Stage::kSpecialized, Stage::kNamed},
                                      NameNodesStep});

}  // namespace

}  // namespace featx
