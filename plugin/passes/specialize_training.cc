// featx.specialize_training: the graph FX would trace after model.train() or
// model.eval().
//
//   %t : bool = prim::GetAttr[name="training"](%block)
//   %y = prim::If(%t) ...
// becomes
//   %t : bool = prim::Constant[value=0]()
// and constant propagation keeps only the branch that runs (also for the
// plain attributes FoldModuleAttributes made constants).
#include <vector>

#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/constant_propagation.h>

#include "plugin/passes/passes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool IsTrainingRead(const jit::Node* n) {
  return n->kind() == c10::prim::GetAttr && n->s(c10::attr::name) == "training" &&
         n->input(0)->type()->cast<c10::ClassType>() != nullptr;
}

void CollectTrainingReads(jit::Block* block, std::vector<jit::Node*>* reads) {
  for (jit::Node* n : block->nodes()) {
    if (IsTrainingRead(n)) reads->push_back(n);
    for (jit::Block* b : n->blocks()) CollectTrainingReads(b, reads);
  }
}

}  // namespace

bool ReadsTraining(const std::shared_ptr<jit::Graph>& graph) {
  std::vector<jit::Node*> reads;
  CollectTrainingReads(graph->block(), &reads);
  return !reads.empty();
}

void SpecializeTraining(std::shared_ptr<jit::Graph>& graph, bool training) {
  std::vector<jit::Node*> reads;
  CollectTrainingReads(graph->block(), &reads);
  for (jit::Node* read : reads) {
    jit::WithInsertPoint guard(read);
    read->output()->replaceAllUsesWith(graph->insertConstant(training));
    read->destroy();
  }
  // Only branches and plain values fold: tensors are mutable types, which
  // this variant never touches, so no op FX would record disappears (and no
  // alias analysis is needed, which keeps naming fast).
  jit::ConstantPropagationImmutableTypes(graph);
  GRAPH_DUMP("After featx SpecializeTraining: ", graph);
}

}  // namespace featx
