// Who reaches a tensor's memory after a node: the analysis featx.protect_aliases
// (is an activation written later?) and featx.prune (does anyone read what an
// unused in-place op writes?) share.
//
// Most tensors in a model are fresh (made by a conv, an add) and reached only
// through their uses, the views made from them (view, Flatten) and in-place
// results (add_, ReLU(inplace=True)). Walking those uses answers without
// alias analysis; the walk gives up (nullopt) where it would have to guess.
//
//   jit::Value* root = FreshRoot(value, summaries);   // nullptr: not decidable here
//   std::optional<bool> read = MemoryUsedAfter(root, node, Access::kAny, summaries);
#pragma once

#include <optional>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/analysis/call_summaries.h"

namespace featx {

// Where a tensor comes from: walking back through ops whose schema says
// their output aliases one argument (add_, view) and calls whose code
// returns their argument (Identity, Flatten, ReLU(inplace=True)), to
struct Origin {
  enum Kind {
    kFresh,        // an op or call that made a new tensor: `value`
    kGraphInput,   // the graph's input `value`
    kModuleState,  // a module's parameter or buffer (prim::GetAttr)
    kUnknown,      // several possible sources, a wildcard, an op without schema
  };
  Kind kind;
  torch::jit::Value* value;
};
Origin FindOrigin(torch::jit::Value* v, CallSummaries& summaries);

// The fresh tensor `v` is, or is a view or in-place result of: walking back
// through ops whose schema says their output aliases one argument (add_,
// view) and module calls whose code returns their argument (Identity,
// Flatten, ReLU(inplace=True)), to an op or module call that made a new
// tensor. nullptr when the walk meets anything else (a graph input, module
// state, several possible sources).
torch::jit::Value* FreshRoot(torch::jit::Value* v, CallSummaries& summaries);

enum class Access { kWrite, kAny };

// Whether a use of the fresh tensor `root`, or of a view or alias made from
// it, after `node` (and other than `node` itself) writes it (kWrite) or
// touches it at all (kAny: returning it counts). nullopt when the uses are
// beyond this simple reasoning (containers, values leaving a block, calls of
// functions, wildcard aliases).
std::optional<bool> MemoryUsedAfter(torch::jit::Value* root, const torch::jit::Node* node, Access access,
                                    CallSummaries& summaries);

}  // namespace featx
