// featx.specialize_training: the graph FX would trace after model.train() or
// model.eval().
//
//   %t : bool = prim::GetAttr[name="training"](%block)
//   %y = prim::If(%t) ...
// becomes
//   %t : bool = prim::Constant[value=0]()
// and only the branch that runs is kept (also for the plain attributes
// FoldModuleAttributes made constants).
#include "plugin/passes/specialize_training.h"

#include <vector>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/jit_log.h>

#include <memory>
#include <utility>
#include "plugin/analysis/fold_constants.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool IsTrainingRead(const jit::Node* n) {
  // The name last: reading it is a search with a dynamic_cast.
  return n->kind() == c10::prim::GetAttr && n->output()->type()->kind() == c10::TypeKind::BoolType &&
         n->s(c10::attr::name) == "training" && n->input(0)->type()->cast<c10::ClassType>() != nullptr;
}

void CollectTrainingReads(jit::Block* block, std::vector<jit::Node*>* reads) {
  for (jit::Node* n : block->nodes()) {
    if (IsTrainingRead(n)) reads->push_back(n);
    for (jit::Block* b : n->blocks()) CollectTrainingReads(b, reads);
  }
}

// Keeps the branch an `if` on a constant takes, in its place.
void InlineTakenBranch(jit::Node* if_node) {
  const bool condition = jit::toIValue(if_node->input(0))->toBool();
  jit::Block* taken = if_node->blocks()[condition ? 0 : 1];
  for (auto it = taken->nodes().begin(); it != taken->nodes().end();) {
    jit::Node* inner = *it;
    ++it;
    inner->moveBefore(if_node);
  }
  for (size_t i = 0; i < if_node->outputs().size(); ++i) {
    if_node->output(i)->replaceAllUsesWith(taken->outputs()[i]);
  }
  if_node->destroy();
}

// torch's ConstantPropagationImmutableTypes, for what `training` and folded
// attributes decide: scalar ops on constants and `if`s on them. Torch's runs
// its dead-code elimination afterwards, which builds an alias analysis of
// the whole graph: 71% of naming densenet121, whose every layer reads
// `training`. Here the dead scalar nodes left behind are removed directly.
void FoldBranches(jit::Graph& graph, jit::Block* block) {
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* n = *it;
    ++it;
    if (!FoldScalarOp(graph, n).empty()) continue;
    for (jit::Block* b : n->blocks()) FoldBranches(graph, b);
    if (n->kind() == c10::prim::If && n->input(0)->node()->kind() == c10::prim::Constant) InlineTakenBranch(n);
  }
}

// Removes nodes nothing uses that only compute a value: what the folded
// conditions needed (the constants, `__not__`, `__is__`, ...). Never a call,
// an op that writes, or one with side effects.
void RemoveDeadValues(jit::Block* block) {
  for (auto it = block->nodes().rbegin(); it != block->nodes().rend();) {
    jit::Node* n = *it;
    ++it;
    for (jit::Block* b : n->blocks()) RemoveDeadValues(b);
    if (!n->blocks().empty() || n->hasUses() || n->hasSideEffects() || n->outputs().empty()) continue;
    const c10::FunctionSchema* schema = n->maybeSchema();
    const bool pure =
        schema != nullptr ? !schema->is_mutable() : n->kind() == c10::prim::Constant || n->kind() == c10::prim::GetAttr;
    if (pure) n->destroy();
  }
}

}  // namespace

bool ReadsTraining(const std::shared_ptr<jit::Graph>& graph) {
  std::vector<jit::Node*> reads;
  CollectTrainingReads(graph->block(), &reads);
  // A read nothing uses (its `if` folded away) decides nothing.
  for (const jit::Node* read : reads) {
    if (read->output()->hasUses()) return true;
  }
  return false;
}

void SpecializeTraining(std::shared_ptr<jit::Graph>& graph, bool training) {
  std::vector<jit::Node*> reads;
  CollectTrainingReads(graph->block(), &reads);
  for (jit::Node* read : reads) {
    jit::WithInsertPoint guard(read);
    read->output()->replaceAllUsesWith(graph->insertConstant(training));
    read->destroy();
  }
  // Only branches and plain values fold: no op FX would record on a tensor
  // disappears.
  FoldBranches(*graph, graph->block());
  RemoveDeadValues(graph->block());
  GRAPH_DUMP("After featx SpecializeTraining: ", graph);
}

namespace {

std::shared_ptr<ModeRewrite> Specialized(std::shared_ptr<jit::Graph> graph, bool training) {
  auto part = std::make_shared<ModeRewrite>();
  part->training = training;
  part->named.graph = std::move(graph);
  SpecializeTraining(part->named.graph, training);
  return part;
}

absl::Status SpecializeTrainingStep(Rewrite& rewrite) {
  return TorchCall([&] {
    // Most models never read `training` outside their leaves (resnet50 does
    // not): then both modes are one graph, specialized and named once.
    if (!ReadsTraining(rewrite.inlined)) {
      rewrite.train = rewrite.eval = Specialized(std::move(rewrite.inlined), /*training=*/true);
    } else {
      rewrite.train = Specialized(rewrite.inlined->copy(), /*training=*/true);
      rewrite.eval = Specialized(std::move(rewrite.inlined), /*training=*/false);
    }
    rewrite.inlined.reset();
  });
}

const PassRegistration kRegistration({{"featx.specialize_training",
                                       "one graph per training mode: `training` becomes a constant, dead branches go",
                                       Stage::kInlined, Stage::kSpecialized},
                                      SpecializeTrainingStep});

}  // namespace

}  // namespace featx
