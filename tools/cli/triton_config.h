// A Triton config.pbtxt for a tuple-mode model: Triton's PyTorch backend
// (platform "pytorch_libtorch") names outputs by position (OUTPUT__0, ...)
// and needs each one's data type and dims, which users otherwise copy by hand
// from a run of the model.
//
//   FEATX_ASSIGN_OR_RETURN(std::string pbtxt, TritonConfig(rewritten, manifest, x));
//   // platform: "pytorch_libtorch" ... output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ -1, 1000 ] } ... ]
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "plugin/options.h"

namespace featx::cli {

// OK for tuple mode; for another, InvalidArgument saying why Triton needs
// tuple mode. Checked before a model is loaded, and again by TritonConfig.
[[nodiscard]] absl::Status CheckTritonMode(Mode mode);

// Runs a copy of `rewritten` (tuple mode; `manifest` from its rewrite) in eval
// mode, as Triton does, on `input` and on `input` twice along dim 0, and
// describes its input and every output: dims that changed between the two
// runs are -1. With max_batch_size 0 the batch dim is one of the dims. A
// model that cannot run at batch 2 gets fixed dims and a comment saying so.
// InvalidArgument for another mode, an output that is not a tensor, or a
// dtype Triton has no type for.
[[nodiscard]] absl::StatusOr<std::string> TritonConfig(const torch::jit::Module& rewritten,
                                                       const OutputManifest& manifest, const at::Tensor& input);

}  // namespace featx::cli
