// featx.bracket_request (tap mode): a forward that tells a sink where each
// request starts and ends, for hosts that open no capture.
//
//   BracketRequest(graph, "model-7");
#pragma once

#include <memory>
#include <string>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// Calls featx::request_begin first and featx::request_end last (both have
// side effects, so no pass removes them), naming `sink`, the key of the
// request sink this model reports to (ops/capture.h); "" calls the plain
// overloads, which report to the process's default sink.
void BracketRequest(std::shared_ptr<torch::jit::Graph>& graph, const std::string& sink = "");

}  // namespace featx
