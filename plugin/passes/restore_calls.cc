// featx.restore_calls: the code the rewrite does not look into goes back to
// being the module call it was.
//
// Naming needs every submodule call inlined (FX traces through them), but
// the model a rewrite installs only needs inlined what leads to a chosen
// node. Returning the last node of a 10k-node model, its forward held all
// 10k nodes: torch printed, saved and compiled them again on every load
// (save 5x, load 1.5x the plain model's). Put back, the calls that hold no
// chosen node print as the plain model's do:
//
//   prim::featx_call_begin()
//   %y = aten::relu(%x)                              # block.forward's code
//   prim::featx_call_end[name="forward"](%block, %x, %y)
// becomes
//   %y.1 = prim::CallMethod[name="forward"](%block, %x)
//
// A call is put back only when its code is intact as a unit: no value it
// makes is used after it other than what it returns, and what it returns
// has the type callers expect. Otherwise it stays inlined, which is always
// right, and its inner calls are tried in turn.
#include "plugin/passes/restore_calls.h"

#include <vector>

#include <torch/csrc/jit/jit_log.h>

#include "absl/container/flat_hash_set.h"
#include "plugin/analysis/call_marks.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

class CallRestorer {
 public:
  explicit CallRestorer(const std::vector<const jit::Node*>& keep) {
    // A kept node and every node whose blocks hold it: a call holds a kept
    // node when one of its top-level nodes is in this set.
    for (const jit::Node* n : keep) {
      // Stops at the top, or where an earlier kept node's chain already went.
      while (n != nullptr && held_.insert(n).second) n = n->owningBlock()->owningNode();
    }
  }

  void Restore(jit::Block* block) {
    for (jit::Node* n = *block->nodes().begin(); n != block->return_node();) {
      if (n->kind() == kCallBegin) {
        n = RestoreOrOpen(n);
        continue;
      }
      if (n->kind() == kCallEnd) {
        // A mark whose begin some pass removed (an opened call's end goes
        // with its begin): alone, it marks nothing.
        jit::Node* next = n->next();
        n->destroy();
        n = next;
        continue;
      }
      for (jit::Block* b : n->blocks()) Restore(b);
      n = n->next();
    }
  }

 private:
  // Restores the call `begin` opens, or removes its marks so that its nodes
  // are visited in turn; returns the node to visit next.
  jit::Node* RestoreOrOpen(jit::Node* begin) {
    jit::Node* end = MatchingEnd(begin);
    jit::Node* next = begin->next();
    if (end != nullptr && Restorable(begin, end)) {
      next = end->next();
      Replace(begin, end);
    } else if (end != nullptr) {
      end->destroy();
    }
    begin->destroy();
    return next;
  }

  static jit::Node* MatchingEnd(jit::Node* begin) {
    int depth = 0;
    for (jit::Node* n = begin->next(); n != begin->owningBlock()->return_node(); n = n->next()) {
      if (n->kind() == kCallBegin) ++depth;
      if (n->kind() == kCallEnd && depth-- == 0) return n;
    }
    return nullptr;
  }

  // The node in `begin`'s block that holds `n` (n itself, or the if or
  // loop it is in) lies between the marks. Nodes keep their order's
  // positions: a comparison, not a set of the call's nodes.
  static bool Inside(const jit::Node* n, const jit::Node* begin, const jit::Node* end) {
    while (n != nullptr && n->owningBlock() != begin->owningBlock()) n = n->owningBlock()->owningNode();
    return n != nullptr && begin->isBefore(n) && n->isBefore(end);
  }

  bool Restorable(const jit::Node* begin, const jit::Node* end) const {
    if (begin->next() == end) return false;
    auto type = end->input(0)->type()->cast<c10::ClassType>();
    jit::Function* method = type != nullptr ? type->findMethod(end->s(c10::attr::name)) : nullptr;
    if (method == nullptr) return false;
    const jit::Value* returned = end->inputs().back();
    // Callers read what the call returns with the type the inlined code
    // gave it; the method may declare a wider one (Optional[Tensor]).
    const std::vector<c10::Argument>& returns = method->getSchema().returns();
    if (returns.size() != 1 || !returns[0].type()->isSubtypeOf(*returned->type())) return false;
    // The module and the arguments come from before the call.
    for (size_t i = 0; i + 1 < end->inputs().size(); ++i) {
      if (Inside(end->input(i)->node(), begin, end)) return false;
    }
    for (const jit::Node* n = begin->next(); n != end; n = n->next()) {
      if (held_.contains(n)) return false;
      for (const jit::Value* output : n->outputs()) {
        if (output == returned) continue;
        for (const jit::Use& use : output->uses()) {
          if (use.user != end && !Inside(use.user, begin, end)) return false;
        }
      }
    }
    return true;
  }

  void Replace(jit::Node* begin, jit::Node* end) {
    auto type = end->input(0)->type()->expect<c10::ClassType>();
    const std::string& name = end->s(c10::attr::name);
    jit::Node* call = end->owningGraph()->create(c10::prim::CallMethod, /*num_outputs=*/1);
    call->s_(c10::attr::name, name);
    for (size_t i = 0; i + 1 < end->inputs().size(); ++i) call->addInput(end->input(i));
    call->output()->setType(type->getMethod(name).getSchema().returns()[0].type());
    call->insertAfter(end);
    jit::Value* returned = end->inputs().back();
    // A value the code returned from outside itself (an argument it passes
    // on) stays that value; the call's own result then goes unused.
    const bool made_inside = Inside(returned->node(), begin, end);
    end->destroy();
    if (made_inside) returned->replaceAllUsesWith(call->output());
    for (jit::Node* n = call->prev(); n != begin;) {
      jit::Node* earlier = n->prev();
      n->destroy();
      n = earlier;
    }
    ++restored_;
  }

 public:
  size_t restored() const { return restored_; }

 private:
  absl::flat_hash_set<const jit::Node*> held_;
  size_t restored_ = 0;
};

}  // namespace

size_t RestoreCalls(std::shared_ptr<jit::Graph>& graph, const std::vector<const jit::Node*>& keep) {
  CallRestorer restorer(keep);
  restorer.Restore(graph->block());
  GRAPH_DUMP("After featx RestoreCalls: ", graph);
  return restorer.restored();
}

namespace {

absl::Status RestoreCallsStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    std::vector<const jit::Node*> keep;
    absl::flat_hash_set<const NamedNode*> chosen;
    for (const ChosenOutput& out : part.outputs) {
      if (out.chosen.node->node != nullptr) keep.push_back(out.chosen.node->node);
      keep.push_back(out.value->node());
      chosen.insert(out.chosen.node);
    }
    RestoreCalls(part.named.graph, keep);
    // Only the chosen nodes are sure to be in the graph still: the others
    // may be inside a call again. Their names stay.
    for (NamedNode& n : part.named.nodes) {
      if (chosen.contains(&n)) continue;
      n.node = nullptr;
      n.value = nullptr;
    }
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.restore_calls",
                                       "puts back as module calls the inlined calls that hold no chosen node",
                                       Stage::kChosen, Stage::kChosen},
                                      RestoreCallsStep});

}  // namespace

}  // namespace featx
