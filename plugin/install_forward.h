// Giving a module a rewritten forward: in place, all or nothing, or on a new
// module that shares the original's submodules and state.
//
//   FEATX_RETURN_IF_ERROR(InstallForward(module, rewritten_graph));
//   module.forward({x});   // runs the rewritten graph
//
//   FEATX_ASSIGN_OR_RETURN(torch::jit::Module extractor, WithForward(module, rewritten_graph));
#pragma once

#include <memory>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace featx {

// Makes `graph` (whose first input is the module) the forward method of
// `module`'s class, with a schema derived from the graph. If that fails, the
// old forward is put back and the error returned.
[[nodiscard]] absl::Status InstallForward(torch::jit::Module& module, std::shared_ptr<torch::jit::Graph> graph);

// A new module of a new class whose only method is `graph` as forward, and
// whose submodules, parameters, buffers and attributes are `module`'s own
// (shared, not copied, as torchvision's create_feature_extractor shares
// them). `graph`'s first input must be of `module`'s class; it is retyped.
// `module` is not changed. Far cheaper than Module::clone, which copies every
// class and method of the model.
[[nodiscard]] absl::StatusOr<torch::jit::Module> WithForward(const torch::jit::Module& module,
                                                             std::shared_ptr<torch::jit::Graph> graph);

}  // namespace featx
