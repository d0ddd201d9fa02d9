// featx.prune: keep only what the chosen outputs need, as torchvision's
// extractor does with FX's eliminate_dead_code.
//
// torch's dead-code elimination keeps every prim::CallMethod (a call may have
// side effects it cannot see); FX removes unused module calls. This pass
// removes a module call whose outputs nothing uses and whose inputs nothing
// reads afterwards (so an in-place module, whose effect someone might read,
// stays), then lets torch remove the rest.
#include <vector>

#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "plugin/passes/passes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool ReadLater(const jit::Value* value, const jit::Node* call) {
  for (const jit::Use& use : value->uses()) {
    if (use.user != call && use.user->isAfter(call)) return true;
  }
  return false;
}

bool IsUnneededCall(const jit::Node* n) {
  if (n->kind() != c10::prim::CallMethod) return false;
  for (const jit::Value* out : n->outputs()) {
    if (out->hasUses()) return false;
  }
  for (size_t i = 1; i < n->inputs().size(); ++i) {
    if (n->input(i)->type()->kind() != c10::TypeKind::ClassType && ReadLater(n->input(i), n)) return false;
  }
  return true;
}

bool RemoveUnneededCalls(jit::Block* block) {
  bool removed = false;
  for (auto it = block->nodes().rbegin(); it != block->nodes().rend();) {
    jit::Node* n = *it;
    ++it;
    for (jit::Block* b : n->blocks()) removed |= RemoveUnneededCalls(b);
    if (IsUnneededCall(n)) {
      n->destroy();
      removed = true;
    }
  }
  return removed;
}

}  // namespace

void Prune(std::shared_ptr<jit::Graph>& graph) {
  do {
    jit::EliminateDeadCode(graph);
  } while (RemoveUnneededCalls(graph->block()));
  GRAPH_DUMP("After featx Prune: ", graph);
}

}  // namespace featx
