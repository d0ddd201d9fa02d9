// featx.protect_aliases: an activation is what it was at its node, even if a
// later op writes it in place.
//
//   %bn = prim::CallMethod[name="forward"](%bn1, %x)     # chosen: layer1.0.bn1
//   %r = prim::CallMethod[name="forward"](%relu, %bn)    # ReLU(inplace=True)
// becomes
//   %bn = prim::CallMethod[name="forward"](%bn1, %x)
//   %bn.at_node = aten::clone(%bn, %none)                # emitted instead of %bn
//   %r = prim::CallMethod[name="forward"](%relu, %bn)
//
// A clone is inserted only where alias analysis finds a write to the value,
// or to anything aliasing it, after its node. Alias analysis treats a call of
// a module as writing everything it is given, so the analysis runs on a copy
// whose calls are replaced by stand-ins that write and alias as the module's
// code does (call_summaries.h: ReLU(inplace=True) writes its input, Conv2d
// does not); the clones go into the graph itself.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/jit_log.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "plugin/passes/call_summaries.h"
#include "plugin/passes/passes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Execution order of every node, nested blocks included.
void Number(jit::Block* block, absl::flat_hash_map<const jit::Node*, size_t>* order) {
  for (jit::Node* n : block->nodes()) {
    order->emplace(n, order->size());
    for (jit::Block* b : n->blocks()) Number(b, order);
  }
}

// `graph` with every call inlined, and what each of `values` became in it.
// A marker node right after each value (in its block) uses it, so the value
// can be found again after inlining replaces call outputs. The marker is
// aten::dim, which creates no alias (a tuple holding the value would make
// alias analysis treat it as escaping into a container).
bool SharesSet(const c10::AliasInfo& a, const c10::AliasInfo& b) {
  for (const c10::Symbol& set : a.beforeSets()) {
    if (b.beforeSets().count(set)) return true;
  }
  return false;
}

// The fresh tensor `v` is, or is a view or in-place result of: walking back
// through ops whose schema says their output aliases one argument (add_,
// view) and module calls whose code returns their argument
// (ReLU(inplace=True)), to an op or module that made a new tensor. nullptr
// when the walk meets anything else (a graph input, module state, several
// possible sources).
jit::Value* FreshRoot(jit::Value* v, CallSummaries& summaries) {
  for (int steps = 0; steps < 1000; ++steps) {
    jit::Node* producer = v->node();
    if (producer->kind() == c10::prim::CallMethod) {
      if (producer->outputs().size() != 1) return nullptr;
      const CallSummary& summary = summaries.Of(producer);
      if (!summary.output_may_alias) return v;
      if (!summary.output_aliases_only_arguments) return nullptr;
      v = SoleTensorArgument(producer);
      if (v == nullptr) return nullptr;
      continue;
    }
    const c10::FunctionSchema* schema = producer->maybeSchema();
    if (schema == nullptr || v->offset() >= schema->returns().size()) return nullptr;
    const c10::AliasInfo* result = schema->returns()[v->offset()].alias_info();
    if (result == nullptr) return v;
    if (result->isWildcardBefore() || result->isWildcardAfter()) return nullptr;
    jit::Value* source = nullptr;
    for (size_t i = 0; i < schema->arguments().size() && i < producer->inputs().size(); ++i) {
      const c10::AliasInfo* argument = schema->arguments()[i].alias_info();
      if (argument == nullptr || !SharesSet(*argument, *result)) continue;
      if (source != nullptr) return nullptr;
      source = producer->input(i);
    }
    if (source == nullptr) return nullptr;
    v = source;
  }
  return nullptr;
}

// Whether a use of the fresh tensor `root`, or of a view or alias made from
// it, writes to it after `node`; nullopt when the uses are beyond this
// simple reasoning (containers, block outputs, calls of functions, wildcard
// aliases). A fresh tensor's memory is reachable through its uses alone.
std::optional<bool> WrittenAfter(jit::Value* root, const jit::Node* node, CallSummaries& summaries) {
  std::vector<jit::Value*> aliases = {root};
  absl::flat_hash_set<jit::Value*> visited = {root};
  while (!aliases.empty()) {
    jit::Value* alias = aliases.back();
    aliases.pop_back();
    for (const jit::Use& use : alias->uses()) {
      jit::Node* user = use.user;
      bool writes = false;
      std::vector<jit::Value*> derived;
      if (user->kind() == c10::prim::Return) {
        if (user->owningBlock() != user->owningGraph()->block()) return std::nullopt;  // leaves a block
        continue;
      }
      if (user->kind() == c10::prim::CallMethod) {
        const CallSummary& summary = summaries.Of(user);
        writes = summary.writes_arguments;
        if (summary.output_may_alias) derived.assign(user->outputs().begin(), user->outputs().end());
      } else {
        const c10::FunctionSchema* schema = user->maybeSchema();
        if (schema == nullptr || schema->is_vararg() || use.offset >= schema->arguments().size()) return std::nullopt;
        const c10::AliasInfo* argument = schema->arguments()[use.offset].alias_info();
        if (argument == nullptr) continue;  // only read
        if (argument->isWildcardBefore() || argument->isWildcardAfter()) return std::nullopt;
        writes = argument->isWrite();
        for (size_t i = 0; i < schema->returns().size(); ++i) {
          const c10::AliasInfo* result = schema->returns()[i].alias_info();
          if (result == nullptr) continue;
          if (result->isWildcardBefore() || result->isWildcardAfter()) return std::nullopt;
          if (SharesSet(*argument, *result)) derived.push_back(user->output(i));
        }
      }
      if (writes && user->isAfter(node)) return true;
      for (jit::Value* d : derived) {
        if (!d->type()->isSubtypeOf(*c10::TensorType::get())) return std::nullopt;
        if (visited.insert(d).second) aliases.push_back(d);
      }
    }
  }
  return false;
}

}  // namespace

std::vector<bool> OverwrittenLater(const std::shared_ptr<jit::Graph>& graph, const std::vector<jit::Value*>& values,
                                   CallSummaries* summaries) {
  CallSummaries own;
  CallSummaries& calls = summaries != nullptr ? *summaries : own;
  // Most activations are fresh tensors whose uses tell the whole story; the
  // rest get full alias analysis.
  std::vector<bool> overwritten(values.size(), false);
  std::vector<jit::Value*> undecided;
  std::vector<size_t> undecided_index;
  for (size_t k = 0; k < values.size(); ++k) {
    jit::Value* root = FreshRoot(values[k], calls);
    std::optional<bool> written =
        root != nullptr ? WrittenAfter(root, values[k]->node(), calls) : std::optional<bool>();
    if (written.has_value()) {
      overwritten[k] = *written;
    } else {
      undecided.push_back(values[k]);
      undecided_index.push_back(k);
    }
  }
  if (undecided.empty()) return overwritten;
  const std::vector<bool> analysed = OverwrittenLaterByAliasDb(graph, undecided, &calls);
  for (size_t i = 0; i < undecided.size(); ++i) overwritten[undecided_index[i]] = analysed[i];
  return overwritten;
}

std::vector<bool> OverwrittenLaterByAliasDb(const std::shared_ptr<jit::Graph>& graph,
                                            const std::vector<jit::Value*>& values, CallSummaries* summaries) {
  CallSummaries own;
  auto [analysis_graph, analysed] = (summaries != nullptr ? *summaries : own).MakeAnalysisCopy(*graph, values);
  jit::AliasDb alias_db(analysis_graph);
  absl::flat_hash_map<const jit::Node*, size_t> order;
  Number(analysis_graph->block(), &order);
  std::vector<jit::Node*> by_order(order.size());
  for (const auto& [node, index] : order) by_order[index] = const_cast<jit::Node*>(node);

  // Only nodes that write something can overwrite a value; most do not.
  std::vector<size_t> writers;
  for (size_t i = 0; i < by_order.size(); ++i) {
    if (alias_db.isMutable(by_order[i])) writers.push_back(i);
  }
  std::vector<bool> overwritten(values.size(), false);
  for (size_t k = 0; k < values.size(); ++k) {
    jit::Value* seen = analysed[k];
    if (!alias_db.hasWriters(seen)) continue;
    const size_t after = seen->node()->kind() == c10::prim::Param ? 0 : order.at(seen->node()) + 1;
    for (auto it = std::lower_bound(writers.begin(), writers.end(), after); it != writers.end() && !overwritten[k];
         ++it) {
      overwritten[k] = alias_db.writesToAlias(by_order[*it], {seen});
    }
  }
  return overwritten;
}

std::vector<jit::Value*> ProtectAliases(std::shared_ptr<jit::Graph>& graph, const std::vector<jit::Value*>& values,
                                        CallSummaries* summaries) {
  const std::vector<bool> overwritten = OverwrittenLater(graph, values, summaries);
  // One clone per value, however many outputs read it.
  absl::flat_hash_map<jit::Value*, jit::Value*> clones;
  std::vector<jit::Value*> protected_values;
  for (size_t k = 0; k < values.size(); ++k) {
    jit::Value* value = values[k];
    if (!overwritten[k]) {
      protected_values.push_back(value);
      continue;
    }
    auto [it, inserted] = clones.try_emplace(value, nullptr);
    if (inserted) {
      jit::WithInsertPoint guard(value->node()->kind() == c10::prim::Param ? graph->block()->nodes().front()
                                                                           : value->node()->next());
      it->second = graph->insert(c10::aten::clone, {value});
      it->second->setDebugName(value->debugNameBase() + ".at_node");
    }
    protected_values.push_back(it->second);
  }
  GRAPH_DUMP("After featx ProtectAliases: ", graph);
  return protected_values;
}

}  // namespace featx
