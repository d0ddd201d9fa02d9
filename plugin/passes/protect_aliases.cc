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
std::pair<std::shared_ptr<jit::Graph>, std::vector<jit::Value*>> InlinedCopy(const jit::Graph& graph,
                                                                             const std::vector<jit::Value*>& values) {
  auto copy = std::make_shared<jit::Graph>();
  for (const jit::Value* input : graph.inputs()) copy->addInput()->setType(input->type());
  std::unordered_map<jit::Value*, jit::Value*> value_map;
  jit::WithInsertPoint guard(copy->block());
  for (jit::Value* output : jit::insertGraph(*copy, const_cast<jit::Graph&>(graph), copy->inputs(), value_map)) {
    copy->registerOutput(output);
  }
  // Inlining replaces a call's outputs; a use keeps track of the new ones.
  std::vector<jit::Value*> mapped;
  for (jit::Value* v : values)
    mapped.push_back(v->node()->kind() == c10::prim::Param ? copy->inputs()[v->offset()] : value_map.at(v));
  jit::Node* marker = copy->create(c10::prim::TupleConstruct, mapped);
  copy->appendNode(marker);
  marker->output()->setType(c10::TupleType::create([&] {
    std::vector<c10::TypePtr> types;
    for (jit::Value* v : mapped) types.push_back(v->type());
    return types;
  }()));
  copy->registerOutput(marker->output());
  jit::Inline(*copy);
  std::vector<jit::Value*> inlined(marker->inputs().begin(), marker->inputs().end());
  return {copy, inlined};
}

}  // namespace

std::vector<jit::Value*> ProtectAliases(std::shared_ptr<jit::Graph>& graph, const std::vector<jit::Value*>& values) {
  auto [analysis_graph, analysed] = InlinedCopy(*graph, values);
  jit::AliasDb alias_db(analysis_graph);
  absl::flat_hash_map<const jit::Node*, size_t> order;
  Number(analysis_graph->block(), &order);
  std::vector<jit::Node*> by_order(order.size());
  for (const auto& [node, index] : order) by_order[index] = const_cast<jit::Node*>(node);

  std::vector<jit::Value*> protected_values;
  for (size_t k = 0; k < values.size(); ++k) {
    jit::Value* value = values[k];
    jit::Value* seen = analysed[k];
    const bool is_input = seen->node()->kind() == c10::prim::Param;
    bool overwritten = false;
    for (size_t i = is_input ? 0 : order.at(seen->node()) + 1; i < by_order.size() && !overwritten; ++i) {
      overwritten = alias_db.writesToAlias(by_order[i], {seen});
    }
    if (!overwritten) {
      protected_values.push_back(value);
      continue;
    }
    jit::WithInsertPoint guard(value->node()->kind() == c10::prim::Param ? graph->block()->nodes().front()
                                                                         : value->node()->next());
    jit::Value* clone = graph->insert(c10::aten::clone, {value});
    clone->setDebugName(value->debugNameBase() + ".at_node");
    protected_values.push_back(clone);
  }
  GRAPH_DUMP("After featx ProtectAliases: ", graph);
  return protected_values;
}

}  // namespace featx
