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
#include "plugin/passes/tensor_memory.h"

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
        root != nullptr ? MemoryUsedAfter(root, values[k]->node(), Access::kWrite, calls) : std::optional<bool>();
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
