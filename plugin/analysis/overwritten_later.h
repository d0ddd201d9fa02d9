// Is an activation written in place after its node? What featx.protect_aliases
// asks for each chosen value.
//
//   std::vector<bool> written = OverwrittenLater(graph, {value}, &summaries);
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/analysis/call_summaries.h"

namespace featx {

// For each value, whether alias analysis finds a write to it, or to anything
// aliasing it, after its node: an in-place op, or an in-place module such as
// ReLU(inplace=True) (module calls are analysed inlined, on a copy).
// `summaries`, when given, is reused (and filled) across passes. A fresh
// value (an op's or module's new tensor) is decided from its uses and the
// schemas' alias annotations; any other by OverwrittenLaterByAliasDb.
std::vector<bool> OverwrittenLater(const std::shared_ptr<torch::jit::Graph>& graph,
                                   const std::vector<torch::jit::Value*>& values, CallSummaries* summaries = nullptr);

// The same question answered by torch's AliasDb on an analysis copy of the
// graph (call_summaries.h): slower, and the reference the fast path is
// tested against.
std::vector<bool> OverwrittenLaterByAliasDb(const std::shared_ptr<torch::jit::Graph>& graph,
                                            const std::vector<torch::jit::Value*>& values,
                                            CallSummaries* summaries = nullptr);

}  // namespace featx
