// featx.bracket_request: tap mode's forward opens and closes its own request,
// so that a host that opens no capture (one that knows nothing of featx,
// with the plugin preloaded) can still send each request's activations to a
// sink (ops/capture.h).
//
//   graph(%self, %x):
//     = featx::request_begin()
//     ...
//     = featx::request_end()
//     return (%out)
#include <torch/csrc/jit/ir/ir.h>

#include "plugin/passes/passes.h"

namespace featx {

void BracketRequest(std::shared_ptr<torch::jit::Graph>& graph) {
  static const c10::Symbol kBegin = c10::Symbol::fromQualString("featx::request_begin");
  static const c10::Symbol kEnd = c10::Symbol::fromQualString("featx::request_end");
  graph->create(kBegin, {}, 0)->insertBefore(graph->block()->nodes().front());
  graph->create(kEnd, {}, 0)->insertBefore(graph->return_node());
}

}  // namespace featx
