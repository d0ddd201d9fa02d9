#include "plugin/analysis/call_summaries.h"

#include <unordered_map>

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "absl/container/flat_hash_set.h"
#include "plugin/analysis/call_marks.h"
#include "plugin/analysis/fold_constants.h"
#include "plugin/analysis/jit_values.h"
#include "plugin/analysis/tensor_memory.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Inlines `call` from its callee's own graph (not its optimized one, which
// the graph executor compiles on first use); returns the first inlined node,
// or the node after `call` when nothing was inserted.
jit::Node* InlineCall(jit::Node* call, jit::GraphFunction& callee) {
  jit::Node* before = call->prev();
  // A function call's first input is the function itself.
  if (call->kind() == c10::prim::CallFunction) call->removeInput(0);
  jit::WithInsertPoint guard(call);
  std::vector<jit::Value*> outputs = jit::insertGraph(*call->owningGraph(), *callee.graph(), call->inputs());
  for (size_t i = 0; i < outputs.size(); ++i) call->outputs()[i]->replaceAllUsesWith(outputs[i]);
  call->destroy();
  return before->next();
}

// Replaces `call` by ops that alias and write as its summary says; false when
// no stand-in fits (the call is then inlined).
bool ReplaceWithStandIn(jit::Node* call, const CallSummary& summary) {
  jit::Value* argument = SoleTensorArgument(call);
  if (call->outputs().size() != 1 || !IsTensor(call->output()) || argument == nullptr) return false;
  // An output that may alias the module's state or unknown memory has no
  // stand-in: aten::alias(argument) would hide a write through it from
  // whatever else reaches that state. The call's own code says it exactly.
  if (summary.output_may_alias && !summary.output_aliases_only_arguments) return false;
  // Nodes made directly, not through Graph::insert: its schema matching
  // would cost more than the analysis saves.
  jit::Graph& graph = *call->owningGraph();
  auto add = [&](c10::Symbol kind, std::vector<jit::Value*> inputs) {
    jit::Node* n = graph.create(kind, inputs);
    n->insertBefore(call);
    return n->output();
  };
  jit::Value* stand_in = nullptr;
  if (summary.writes_arguments) stand_in = add(c10::aten::relu_, {argument});
  if (!summary.output_may_alias) {
    jit::Node* none = graph.createNone();
    none->insertBefore(call);
    stand_in = add(c10::aten::clone, {argument, none->output()});
  } else if (!summary.writes_arguments) {
    stand_in = add(c10::aten::alias, {argument});
  }
  stand_in->setType(call->output()->type());
  call->output()->replaceAllUsesWith(stand_in);
  call->destroy();
  return true;
}

// Records, for every value `from` makes, the same value in `to`, a copy of
// it (Graph::copy keeps the structure, nested blocks included).
void MapValues(jit::Block* from, jit::Block* to, std::unordered_map<jit::Value*, jit::Value*>* map) {
  for (size_t i = 0; i < from->inputs().size(); ++i) map->emplace(from->inputs()[i], to->inputs()[i]);
  auto it = to->nodes().begin();
  for (jit::Node* n : from->nodes()) {
    jit::Node* twin = *it++;
    for (size_t i = 0; i < n->outputs().size(); ++i) map->emplace(n->output(i), twin->output(i));
    for (size_t b = 0; b < n->blocks().size(); ++b) MapValues(n->blocks()[b], twin->blocks()[b], map);
  }
}

bool IsTensorOrOptionalTensor(const c10::TypePtr& type) {
  if (type->isSubtypeOf(*c10::TensorType::get())) return true;
  auto optional = type->cast<c10::OptionalType>();
  return optional != nullptr && optional->getElementType()->isSubtypeOf(*c10::TensorType::get());
}

// Whether a value of `type` may hold a tensor (a list of them, a tuple, a
// module, an object): such arguments are left to AliasDb.
bool MayHoldTensors(const c10::TypePtr& type) {
  if (IsPythonScalarType(type)) return false;
  switch (type->kind()) {
    case c10::TypeKind::DeviceObjType:
      return false;
    case c10::TypeKind::ListType:
    case c10::TypeKind::OptionalType:
    case c10::TypeKind::TupleType:
      for (const c10::TypePtr& contained : type->containedTypes()) {
        if (MayHoldTensors(contained)) return true;
      }
      return false;
    default:
      return true;
  }
}

}  // namespace

jit::Value* SoleTensorArgument(const jit::Node* call) {
  jit::Value* tensor = nullptr;
  for (size_t i = 1; i < call->inputs().size(); ++i) {
    if (!IsTensor(call->input(i))) continue;
    if (tensor != nullptr) return nullptr;
    tensor = call->input(i);
  }
  return tensor;
}

bool IsCall(const jit::Node* n) { return n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction; }

const CallSummary& CallSummaries::Of(const jit::Node* call) {
  // What torch's AliasDb assumes of a call it cannot see into.
  static const CallSummary kUnknown;
  const bool method = call->kind() == c10::prim::CallMethod;
  jit::Function* function = method
                                ? call->input(0)->type()->expect<c10::ClassType>()->findMethod(call->s(c10::attr::name))
                                : call->input(0)->type()->expect<c10::FunctionType>()->function();
  if (function == nullptr) return kUnknown;
  auto it = known_.find(function);
  if (it == known_.end()) {
    jit::GraphFunction* callee = jit::tryToGraphFunction(*function);
    if (callee == nullptr) return kUnknown;
    it = known_.emplace(function, Summarize(*callee, method ? 1 : 0)).first;
  }
  return it->second;
}

CallSummary CallSummaries::Summarize(jit::GraphFunction& callee, size_t first_argument) {
  if (method_ == Method::kFromSchemas) {
    if (std::optional<CallSummary> summary = SummarizeFromSchemas(*callee.graph(), first_argument)) return *summary;
  }
  return SummarizeWithAliasDb(callee, first_argument);
}

// Most leaf code is a chain of ops on fresh tensors (Conv2d's conv2d,
// BatchNorm's batch_norm): the uses of each argument and the chain back from
// the output decide the summary without copying the code or building an
// AliasDb, which was most of the extractor's time on efficientnet_b0.
std::optional<CallSummary> CallSummaries::SummarizeFromSchemas(jit::Graph& graph, size_t first_argument) {
  CallSummary summary{false, false, false};
  absl::flat_hash_set<const jit::Value*> arguments;
  for (size_t i = first_argument; i < graph.inputs().size(); ++i) {
    jit::Value* input = graph.inputs()[i];
    if (!IsTensorOrOptionalTensor(input->type())) {
      if (MayHoldTensors(input->type())) return std::nullopt;
      continue;
    }
    arguments.insert(input);
    const std::optional<bool> written = MemoryUsedAfter(input, graph.param_node(), Access::kWrite, *this);
    if (!written) return std::nullopt;
    summary.writes_arguments |= *written;
  }
  if (graph.outputs().size() != 1) return std::nullopt;
  // A None, a number, a shape: nothing to alias.
  if (!MayHoldTensors(graph.outputs()[0]->type())) return summary;
  if (!IsTensorOrOptionalTensor(graph.outputs()[0]->type())) return std::nullopt;
  const Origin origin = FindOrigin(graph.outputs()[0], *this);
  if (origin.kind == Origin::kGraphInput && arguments.contains(origin.value)) {
    summary.output_may_alias = true;
    summary.output_aliases_only_arguments = true;
  } else if (origin.kind == Origin::kModuleState) {
    summary.output_may_alias = true;
  } else if (origin.kind != Origin::kFresh) {
    return std::nullopt;
  }
  return summary;
}

CallSummary CallSummaries::SummarizeWithAliasDb(jit::GraphFunction& callee, size_t first_argument) {
  std::shared_ptr<jit::Graph> graph = callee.graph()->copy();
  // AliasDb takes a graph's inputs to be wildcards, which alias every
  // module attribute: BatchNorm's write to its running stats would count as
  // a write to its input. Tensor arguments become fresh copies of
  // themselves, so only writes to them (or to what the code makes of them)
  // count; the inputs proper then alias only what comes from outside the
  // arguments (the module's state, unknown memory).
  std::vector<jit::Value*> arguments;
  jit::Node* none = graph->createNone();
  none->insertBefore(graph->block()->nodes().front());
  for (size_t i = first_argument; i < graph->inputs().size(); ++i) {
    jit::Value* input = graph->inputs()[i];
    if (!IsTensor(input)) {
      arguments.push_back(input);
      continue;
    }
    jit::Node* fresh = graph->create(c10::aten::clone, {input, none->output()});
    fresh->insertAfter(none);
    fresh->output()->setType(input->type());
    input->replaceAllUsesAfterNodeWith(fresh, fresh->output());
    arguments.push_back(fresh->output());
  }
  ReplaceCalls(graph->block());
  jit::AliasDb alias_db(graph);
  const jit::ValueSet argument_set(arguments.begin(), arguments.end());
  CallSummary summary{false, false, false};
  std::vector<jit::Block*> blocks = {graph->block()};
  while (!blocks.empty() && !summary.writes_arguments) {
    jit::Block* block = blocks.back();
    blocks.pop_back();
    for (jit::Node* n : block->nodes()) {
      if (alias_db.writesToAlias(n, argument_set)) summary.writes_arguments = true;
      for (jit::Block* b : n->blocks()) blocks.push_back(b);
    }
  }
  const bool aliases_arguments = alias_db.mayContainAlias(graph->outputs(), arguments);
  const bool aliases_other = alias_db.mayContainAlias(graph->outputs(), graph->inputs());
  summary.output_may_alias = aliases_arguments || aliases_other;
  summary.output_aliases_only_arguments = aliases_arguments && !aliases_other;
  return summary;
}

void CallSummaries::ReplaceCalls(jit::Block* block) {
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* call = *it;
    if (call->kind() == kCallBegin || call->kind() == kCallEnd) {
      // featx.restore_calls's marks: no op, and AliasDb refuses unknown ones.
      ++it;
      call->destroy();
      continue;
    }
    jit::GraphFunction* callee = jit::tryToGraphFunction(call);
    if (callee == nullptr) {
      for (jit::Block* b : call->blocks()) ReplaceCalls(b);
      ++it;
      continue;
    }
    jit::Node* next = call->next();
    if (ReplaceWithStandIn(call, Of(call))) {
      it = jit::graph_node_list_iterator(next, jit::kNextDirection);
      continue;
    }
    // Visit what was inlined: it holds the callee's own calls.
    it = jit::graph_node_list_iterator(InlineCall(call, *callee), jit::kNextDirection);
  }
}

AnalysisCopy CallSummaries::MakeAnalysisCopy(jit::Graph& graph, const std::vector<jit::Value*>& values) {
  AnalysisCopy out;
  out.graph = graph.copy();
  std::unordered_map<jit::Value*, jit::Value*> value_map;
  MapValues(graph.block(), out.graph->block(), &value_map);
  // A marker right after each value uses it, so it can be found again after
  // its call is replaced. aten::dim creates no alias (a tuple holding the
  // value would make alias analysis treat it as escaping into a container).
  std::vector<jit::Node*> markers;
  for (jit::Value* v : values) {
    jit::Value* mapped = value_map.at(v);
    jit::Node* marker = out.graph->create(c10::aten::dim, {mapped});
    marker->output()->setType(c10::IntType::get());
    marker->insertBefore(FirstUseSite(mapped));
    markers.push_back(marker);
  }
  ReplaceCalls(out.graph->block());
  for (jit::Node* marker : markers) out.values.push_back(marker->input());
  return out;
}

}  // namespace featx
