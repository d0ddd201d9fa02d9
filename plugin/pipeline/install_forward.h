// A module with a rewritten forward, made beside the original and never in
// it, so that a server may rewrite a model while requests run on it.
//
//   FEATX_ASSIGN_OR_RETURN(torch::jit::Module extractor, WithForward(module, rewritten_graph));
//   extractor.forward({x});   // runs the rewritten graph; module.forward is unchanged
#pragma once

#include <memory>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"

namespace featx {

// A new module of a new class whose only method is `graph` as forward, and
// whose submodules, parameters, buffers and attributes are `module`'s own
// (shared, not copied, as torchvision's create_feature_extractor shares
// them). `graph`'s first input must be of `module`'s class; it is retyped.
// The new forward keeps the old one's schema (argument names, default
// values, keyword use) with the graph's return type.
//
// `module`, its class and its compilation unit are not changed: requests
// running on it, Methods taken from it and copies sharing its class keep
// their forward. The new class lives in a compilation unit of its own, freed
// with the new module, so making many leaves the model's unit as it was and
// concurrent calls share nothing they write. Far cheaper than Module::clone,
// which copies every class and method of the model.
[[nodiscard]] absl::StatusOr<torch::jit::Module> WithForward(const torch::jit::Module& module,
                                                             std::shared_ptr<torch::jit::Graph> graph);

}  // namespace featx
