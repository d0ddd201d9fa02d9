// featx.prune: keep only what the chosen outputs need, as torchvision's
// extractor does with FX's eliminate_dead_code.
//
// torch's dead-code elimination keeps every prim::CallMethod (a call may have
// side effects it cannot see), and every in-place op on a module call's
// output (alias analysis cannot tell what that output aliases); FX removes
// unused module calls. This pass removes a module call or an in-place op
// whose outputs nothing uses and, if it writes its inputs, whose inputs
// nothing reads afterwards (so an in-place op whose effect someone reads
// stays), then lets torch remove the
// rest, and repeats. It assumes a module's output is not a view that
// something else reads later, which holds for torch.nn's and torchvision's
// leaves (Flatten is the exception in principle).
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "plugin/passes/call_summaries.h"
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

bool IsInPlaceOp(const jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  return schema != nullptr && schema->is_mutable();
}

// A view's base may be read later through another value: leave those to
// torch's alias-aware elimination.
bool IsView(const jit::Value* v) {
  const jit::Node* producer = v->node();
  if (producer->kind() == c10::prim::Param) return true;
  const c10::FunctionSchema* schema = producer->maybeSchema();
  if (schema == nullptr || schema->returns().empty()) return false;
  const c10::AliasInfo* alias = schema->returns()[0].alias_info();
  return alias != nullptr && !alias->isWrite();
}

bool IsUnneededCall(const jit::Node* n, CallSummaries& summaries) {
  if (n->hasUses()) return false;
  const bool is_call = n->kind() == c10::prim::CallMethod;
  const bool in_place = is_call ? summaries.Of(n).writes_arguments : IsInPlaceOp(n);
  if (!is_call && !in_place) return false;
  for (size_t i = n->kind() == c10::prim::CallMethod ? 1 : 0; i < n->inputs().size(); ++i) {
    const jit::Value* input = n->input(i);
    if (input->type()->kind() == c10::TypeKind::ClassType) continue;
    if (in_place && (ReadLater(input, n) || IsView(input))) return false;
  }
  return true;
}

bool RemoveUnneededCalls(jit::Block* block, CallSummaries& summaries) {
  bool removed = false;
  for (auto it = block->nodes().rbegin(); it != block->nodes().rend();) {
    jit::Node* n = *it;
    ++it;
    for (jit::Block* b : n->blocks()) removed |= RemoveUnneededCalls(b, summaries);
    if (IsUnneededCall(n, summaries)) {
      n->destroy();
      removed = true;
    }
  }
  return removed;
}

// One backward sweep that removes nodes nothing uses and that write
// nothing: what the model computes after the last chosen node, in one go and
// without alias analysis. torch's elimination then handles in-place ops.
void RemoveUnusedPureNodes(jit::Block* block, CallSummaries& summaries) {
  for (auto it = block->nodes().rbegin(); it != block->nodes().rend();) {
    jit::Node* n = *it;
    ++it;
    if (!n->blocks().empty() || n->hasUses() || n->hasSideEffects()) continue;
    if (n->kind() == c10::prim::CallMethod ? summaries.Of(n).writes_arguments : IsInPlaceOp(n)) continue;
    if (n->kind() == c10::prim::CallFunction || n->kind() == c10::prim::Param) continue;
    n->destroy();
  }
}

}  // namespace

void Prune(std::shared_ptr<jit::Graph>& graph, CallSummaries* summaries) {
  CallSummaries own;
  CallSummaries& calls = summaries != nullptr ? *summaries : own;
  RemoveUnusedPureNodes(graph->block(), calls);
  do {
    jit::EliminateDeadCode(graph);
  } while (RemoveUnneededCalls(graph->block(), calls));
  GRAPH_DUMP("After featx Prune: ", graph);
}

}  // namespace featx
