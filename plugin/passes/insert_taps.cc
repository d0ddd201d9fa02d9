// featx.insert_taps: route each chosen value through featx::tap, so a capture
// around a forward call records it.
//
//   %y = aten::relu(%x)
//   %z = aten::add(%y, %w, %one)
// with %y chosen as "layer1.0.relu" becomes
//   %y = aten::relu(%x)
//   %y.tap = featx::tap(%y, "layer1.0.relu")
//   %z = aten::add(%y.tap, %w, %one)
// Every later use goes through the tap, so the tap stays live through dead
// code elimination (it is a pure identity to the JIT). A value that a later
// op overwrites in place gets `featx::tap.copy(%y, tag, true)`, which records
// a clone while a capture is open.
#include "plugin/passes/insert_taps.h"

#include <torch/csrc/jit/jit_log.h>
#include "absl/strings/str_cat.h"
#include "plugin/analysis/jit_values.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// The input an in-place op writes and returns (`x.add_(y)` returns x), or
// nullptr. Later code reads that input, not the op's output.
jit::Value* InPlaceSelf(const jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (schema == nullptr || schema->returns().size() != 1 || schema->arguments().empty()) return nullptr;
  const c10::AliasInfo* out = schema->returns()[0].alias_info();
  const c10::AliasInfo* self = schema->arguments()[0].alias_info();
  if (out == nullptr || self == nullptr || !out->isWrite() || out->beforeSets() != self->beforeSets()) return nullptr;
  return n->input(0);
}

}  // namespace

std::vector<jit::Value*> InsertTaps(std::shared_ptr<jit::Graph>& graph, const std::vector<TapPoint>& taps) {
  static const c10::Symbol kTap = c10::Symbol::fromQualString("featx::tap");
  std::vector<jit::Value*> tapped;
  for (const TapPoint& point : taps) {
    jit::Value* value = point.value;
    jit::Node* producer = value->node();
    jit::WithInsertPoint guard(FirstUseSite(value));
    std::vector<jit::Value*> inputs = {value, graph->insertConstant(point.tag)};
    if (point.copy) inputs.push_back(graph->insertConstant(true));
    jit::Node* tap = graph->insertNode(graph->create(kTap, inputs));
    tap->output()->setType(value->type());
    tap->output()->setDebugName(value->debugNameBase() + ".tap");
    value->replaceAllUsesAfterNodeWith(tap, tap->output());
    if (!tap->output()->hasUses()) {
      if (jit::Value* self = InPlaceSelf(producer)) self->replaceAllUsesAfterNodeWith(tap, tap->output());
    }
    tapped.push_back(tap->output());
  }
  GRAPH_DUMP("After featx InsertTaps: ", graph);
  return tapped;
}

namespace {

absl::Status InsertTapsStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) -> absl::Status {
    std::vector<TapPoint> taps;
    for (const ChosenOutput& out : part.outputs) taps.push_back({out.value, out.chosen.output_name, out.tap_copy});
    const std::vector<jit::Value*> tapped = InsertTaps(part.named.graph, taps);
    for (size_t i = 0; i < tapped.size(); ++i) {
      if (!tapped[i]->hasUses()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tap mode cannot observe node '", part.outputs[i].chosen.node->name,
            "': nothing in the model reads its value, so a tap on it would be removed as dead code; use dict mode"));
      }
    }
    part.EmitChosen();
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.insert_taps",
                                       "routes each chosen value through featx::tap under its output name",
                                       Stage::kChosen, Stage::kEmitted, Mode::kTap},
                                      InsertTapsStep});

}  // namespace

}  // namespace featx
