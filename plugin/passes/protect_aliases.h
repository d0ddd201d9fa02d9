// featx.protect_aliases: a chosen value that a later op writes in place is
// emitted as it was at its node.
//
//   std::vector<Value*> safe = ProtectAliases(graph, values, &summaries);
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/analysis/call_summaries.h"

namespace featx {

// For each value, the value that holds it as it was at its node: the value
// itself, or, where OverwrittenLater, a clone inserted right after it (one
// per value).
std::vector<torch::jit::Value*> ProtectAliases(std::shared_ptr<torch::jit::Graph>& graph,
                                               const std::vector<torch::jit::Value*>& values,
                                               CallSummaries* summaries = nullptr);

}  // namespace featx
