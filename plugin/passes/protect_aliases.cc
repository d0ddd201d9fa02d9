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
#include "plugin/passes/protect_aliases.h"

#include <torch/csrc/jit/jit_log.h>

#include "absl/container/flat_hash_map.h"
#include "plugin/analysis/jit_values.h"
#include "plugin/analysis/overwritten_later.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {

namespace jit = ::torch::jit;

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
      jit::WithInsertPoint guard(FirstUseSite(value));
      it->second = graph->insert(c10::aten::clone, {value});
      it->second->setDebugName(value->debugNameBase() + ".at_node");
    }
    protected_values.push_back(it->second);
  }
  GRAPH_DUMP("After featx ProtectAliases: ", graph);
  return protected_values;
}

namespace {

absl::Status ProtectAliasesStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    std::vector<jit::Value*> values;
    for (const ChosenOutput& out : part.outputs) values.push_back(out.value);
    if (rewrite.options.mode == Mode::kTap) {
      // A tap records a copy only while a capture is open: nothing is cloned
      // for requests nobody captures.
      const std::vector<bool> copies = OverwrittenLater(part.named.graph, values, rewrite.summaries.get());
      for (size_t i = 0; i < copies.size(); ++i) part.outputs[i].tap_copy = copies[i];
    } else {
      values = ProtectAliases(part.named.graph, values, rewrite.summaries.get());
      for (size_t i = 0; i < values.size(); ++i) part.outputs[i].value = values[i];
    }
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.protect_aliases",
                                       "keeps a chosen value as it was at its node when a later op writes it in place",
                                       Stage::kChosen, Stage::kChosen},
                                      ProtectAliasesStep});

}  // namespace

}  // namespace featx
