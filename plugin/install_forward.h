// Replacing a loaded module's forward with a rewritten graph, all or nothing.
//
//   FEATX_RETURN_IF_ERROR(InstallForward(module, rewritten_graph));
//   module.forward({x});   // runs the rewritten graph
#pragma once

#include <memory>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/status.h"

namespace featx {

// Makes `graph` (whose first input is the module) the forward method of
// `module`'s class, with a schema derived from the graph. If that fails, the
// old forward is put back and the error returned.
[[nodiscard]] absl::Status InstallForward(torch::jit::Module& module, std::shared_ptr<torch::jit::Graph> graph);

}  // namespace featx
