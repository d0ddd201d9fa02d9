// featx.prune: what the outputs do not need goes, module calls included.
//
//   Prune(graph, &summaries);
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/analysis/call_summaries.h"

namespace featx {

// Removes what the graph's outputs do not need, unused module calls included
// (torch's dead-code elimination keeps every call; FX does not).
void Prune(std::shared_ptr<torch::jit::Graph>& graph, CallSummaries* summaries = nullptr);

}  // namespace featx
