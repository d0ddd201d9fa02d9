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
// code elimination (it is a pure identity to the JIT).
#include <torch/csrc/jit/jit_log.h>

#include "plugin/passes/passes.h"

namespace featx {

namespace jit = ::torch::jit;

void InsertTaps(std::shared_ptr<jit::Graph>& graph, const std::vector<TapPoint>& taps) {
  static const c10::Symbol kTap = c10::Symbol::fromQualString("featx::tap");
  for (const TapPoint& point : taps) {
    jit::Value* value = point.value;
    jit::Node* producer = value->node();
    // Graph inputs are tapped before the first node; values right after
    // the node that makes them.
    jit::Node* insert_before =
        producer->kind() == c10::prim::Param ? graph->block()->nodes().front() : producer->next();
    jit::WithInsertPoint guard(insert_before);
    jit::Value* tag = graph->insertConstant(point.tag);
    jit::Node* tap = graph->insertNode(graph->create(kTap, {value, tag}));
    tap->output()->setType(value->type());
    tap->output()->setDebugName(value->debugNameBase() + ".tap");
    value->replaceAllUsesAfterNodeWith(tap, tap->output());
  }
  GRAPH_DUMP("After featx InsertTaps: ", graph);
}

}  // namespace featx
