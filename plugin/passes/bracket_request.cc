// featx.bracket_request: tap mode's forward opens and closes its own request,
// so that a host that opens no capture (one that knows nothing of featx,
// with the plugin preloaded) can still send each request's activations to a
// sink (ops/capture.h).
//
// The model's own sink (a key the host set one under) makes it report there,
// not to the process's default sink:
//
//   graph(%self, %x):
//     %sink : str = prim::Constant[value="featx-sink-1234-1"]()
//     = featx::request_begin(%sink)
//     ...
//     = featx::request_end(%sink)
//     return (%out)
#include "plugin/passes/bracket_request.h"

#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>
#include "plugin/pipeline/pass_registry.h"

namespace featx {

void BracketRequest(std::shared_ptr<torch::jit::Graph>& graph, const std::string& sink) {
  static const c10::Symbol kBegin = c10::Symbol::fromQualString("featx::request_begin");
  static const c10::Symbol kEnd = c10::Symbol::fromQualString("featx::request_end");
  torch::jit::Node* first = graph->block()->nodes().front();
  std::vector<torch::jit::Value*> args;
  if (!sink.empty()) {
    torch::jit::WithInsertPoint at_start(first);
    args.push_back(graph->insertConstant(sink));
  }
  graph->create(kBegin, args, 0)->insertBefore(first);
  graph->create(kEnd, args, 0)->insertBefore(graph->return_node());
}

namespace {

absl::Status BracketRequestStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    BracketRequest(part.named.graph, rewrite.options.request_sink);
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.bracket_request",
                                       "brackets forward with featx::request_begin/end, for hosts that open no capture",
                                       Stage::kEmitted, Stage::kEmitted, Mode::kTap},
                                      BracketRequestStep});

}  // namespace

}  // namespace featx
