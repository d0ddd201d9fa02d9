// The overwritten-later analysis (overwritten_later.h): a fresh value is
// decided by walking the uses of its memory (tensor_memory.h); any other by
// torch's AliasDb on an analysis copy whose calls are stand-ins that write
// and alias as the module's code does (call_summaries.h).
#include "plugin/analysis/overwritten_later.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <torch/csrc/jit/ir/alias_analysis.h>

#include "absl/container/flat_hash_map.h"
#include "plugin/analysis/tensor_memory.h"

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

}  // namespace featx
