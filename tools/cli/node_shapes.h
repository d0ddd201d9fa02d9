// Shapes and dtypes of every eval-mode node for one input: what users ask
// right after listing names.
//
//   FEATX_ASSIGN_OR_RETURN(std::vector<std::string> shapes, EvalNodeShapes(module, eval_graph, x));
//   // shapes[i] describes eval_graph.nodes[i]: "[1, 64, 56, 56] float32"
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "plugin/pipeline/trace.h"

namespace featx::cli {

// Runs `graph` (an eval NamedGraph of `module`) once on `input` with a tap on
// every named tensor and describes each named value: "[1, 64, 56, 56] float32",
// a TorchScript type for non-tensors ("int[]"), or "not run" for a node in a
// branch that did not execute. `graph` is consumed (taps are inserted).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> EvalNodeShapes(const torch::jit::Module& module,
                                                                      NamedGraph graph, const at::Tensor& input);

}  // namespace featx::cli
