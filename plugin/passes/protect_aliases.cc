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
// with every call inlined (ReLU(inplace=True) writes its input, Conv2d does
// not); the clones go into the graph itself.
#include <unordered_map>

#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "absl/container/flat_hash_map.h"
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

std::pair<std::shared_ptr<jit::Graph>, std::vector<jit::Value*>> InlinedCopy(jit::Graph& graph,
                                                                             const std::vector<jit::Value*>& values) {
  std::shared_ptr<jit::Graph> copy = graph.copy();  // Graph::copy is not const, but leaves `graph` alone.
  std::unordered_map<jit::Value*, jit::Value*> value_map;
  MapValues(graph.block(), copy->block(), &value_map);
  std::vector<jit::Node*> markers;
  for (jit::Value* v : values) {
    jit::Value* mapped = value_map.at(v);
    jit::Node* marker = copy->create(c10::aten::dim, {mapped});
    marker->output()->setType(c10::IntType::get());
    if (mapped->node()->kind() == c10::prim::Param) {
      marker->insertBefore(mapped->node()->owningBlock()->nodes().front());
    } else {
      marker->insertAfter(mapped->node());
    }
    markers.push_back(marker);
  }
  jit::Inline(*copy);
  std::vector<jit::Value*> inlined;
  for (jit::Node* marker : markers) inlined.push_back(marker->input());
  return {copy, inlined};
}

}  // namespace

std::vector<bool> OverwrittenLater(const std::shared_ptr<jit::Graph>& graph, const std::vector<jit::Value*>& values) {
  auto [analysis_graph, analysed] = InlinedCopy(*graph, values);
  jit::AliasDb alias_db(analysis_graph);
  absl::flat_hash_map<const jit::Node*, size_t> order;
  Number(analysis_graph->block(), &order);
  std::vector<jit::Node*> by_order(order.size());
  for (const auto& [node, index] : order) by_order[index] = const_cast<jit::Node*>(node);

  std::vector<bool> overwritten(values.size(), false);
  for (size_t k = 0; k < values.size(); ++k) {
    jit::Value* seen = analysed[k];
    const bool is_input = seen->node()->kind() == c10::prim::Param;
    for (size_t i = is_input ? 0 : order.at(seen->node()) + 1; i < by_order.size() && !overwritten[k]; ++i) {
      overwritten[k] = alias_db.writesToAlias(by_order[i], {seen});
    }
  }
  return overwritten;
}

std::vector<jit::Value*> ProtectAliases(std::shared_ptr<jit::Graph>& graph, const std::vector<jit::Value*>& values) {
  const std::vector<bool> overwritten = OverwrittenLater(graph, values);
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
