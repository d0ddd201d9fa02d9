// featx.prune: keep only what the chosen outputs need, as torchvision's
// extractor does with FX's eliminate_dead_code.
//
// torch's dead-code elimination keeps every prim::CallMethod (a call may have
// side effects it cannot see), and every in-place op on a module call's
// output (alias analysis cannot tell what that output aliases); FX removes
// unused module calls. This pass removes a module call or an in-place op
// whose outputs nothing uses and, if it writes its inputs, whose inputs'
// memory nothing reaches afterwards, through any view or alias
// (tensor_memory.h), then lets torch remove the rest, and repeats. So an
// in-place op whose effect is read through a base or a view stays: there
// featx keeps what FX's elimination drops, and its values are the model's
// (tests/extract/prune_views_test.cc).
#include "plugin/passes/prune.h"

#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/jit_log.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "plugin/analysis/call_summaries.h"
#include "plugin/analysis/tensor_memory.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool IsInPlaceOp(const jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  return schema != nullptr && schema->is_mutable();
}

// Whether something after `writer` may see what it writes to `input`: later
// uses of the tensor's memory, through any view or in-place result of it
// (a view `Flatten` returned, the base it came from). Unknown counts as seen.
bool WriteMayBeSeenLater(jit::Value* input, const jit::Node* writer, CallSummaries& summaries) {
  jit::Value* root = FreshRoot(input, summaries);
  if (root == nullptr) return true;
  return MemoryUsedAfter(root, writer, Access::kAny, summaries).value_or(true);
}

// An op that writes into a value something after it uses: dict mode's
// `_set_item(%out, "layer1", %a)` on the returned dict, densenet's
// `features.append(x)` on the list the next layer concatenates. torch's
// elimination keeps it (conservatively: the later use may itself be dead,
// which the elimination, run for other dead code, then sees).
bool WritesValueUsedLater(const jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (schema == nullptr || !schema->is_mutable()) return false;
  for (size_t i = 0; i < schema->arguments().size() && i < n->inputs().size(); ++i) {
    const c10::AliasInfo* alias = schema->arguments()[i].alias_info();
    if (alias == nullptr || !alias->isWrite()) continue;
    for (const jit::Use& use : n->input(i)->uses()) {
      if (use.user != n && use.user->isAfter(n)) return true;
    }
  }
  return false;
}

bool IsUnneededCall(const jit::Node* n, CallSummaries& summaries) {
  if (n->hasUses()) return false;
  const bool is_call = n->kind() == c10::prim::CallMethod;
  const bool in_place = is_call ? summaries.Of(n).writes_arguments : IsInPlaceOp(n);
  if (!is_call && !in_place) return false;
  if (!in_place) return true;
  // Decided without asking what its tensors alias (which, for a tensor a
  // module call made, means summarizing the call): densenet's
  // `features.append(new_features)` on the list a later torch.cat reads.
  if (!is_call && WritesValueUsedLater(n)) return false;
  for (size_t i = is_call ? 1 : 0; i < n->inputs().size(); ++i) {
    jit::Value* input = n->input(i);
    if (!input->type()->isSubtypeOf(*c10::TensorType::get())) continue;
    if (WriteMayBeSeenLater(input, n, summaries)) return false;
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

// Whether torch's elimination could remove anything: a node whose outputs
// nothing uses (one with none counts), or an unused output of an `if` or a
// loop, which it drops alone. If no such node exists, nothing is dead: the
// last dead node in order would be one, as only later nodes use its outputs.
// Elimination builds an alias analysis of the whole graph first (40% of
// rewriting resnet50), so it runs only where it can do something.
bool MayHaveDeadCode(const jit::Block* block) {
  for (const jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::If || n->kind() == c10::prim::Loop) {
      for (const jit::Value* output : n->outputs()) {
        if (!output->hasUses()) return true;
      }
    } else if (!n->hasUses() && !n->hasSideEffects() && !WritesValueUsedLater(n)) {
      return true;
    }
    for (const jit::Block* b : n->blocks()) {
      if (MayHaveDeadCode(b)) return true;
    }
  }
  return false;
}

}  // namespace

void Prune(std::shared_ptr<jit::Graph>& graph, CallSummaries* summaries) {
  CallSummaries own;
  CallSummaries& calls = summaries != nullptr ? *summaries : own;
  RemoveUnusedPureNodes(graph->block(), calls);
  do {
    if (MayHaveDeadCode(graph->block())) jit::EliminateDeadCode(graph);
  } while (RemoveUnneededCalls(graph->block(), calls));
  GRAPH_DUMP("After featx Prune: ", graph);
}

namespace {

absl::Status PruneStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    if (rewrite.options.mode == Mode::kDict) {
      // The model's own output is gone: so are the module calls only it
      // needed, as FX drops them.
      Prune(part.named.graph, rewrite.summaries.get());
    } else {
      // The model's output stays, and with it every call it makes.
      jit::EliminateDeadCode(part.named.graph);
    }
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.prune",
                                       "removes what the outputs do not need (in dict mode, unused module calls too)",
                                       Stage::kEmitted, Stage::kEmitted},
                                      PruneStep});

}  // namespace

}  // namespace featx
