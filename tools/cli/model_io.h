// Files the command line reads and writes, with errors that say what is wrong
// with the file rather than where torch failed.
//
//   FEATX_ASSIGN_OR_RETURN(torch::jit::Module m, LoadModel("resnet18.pt"));
//   FEATX_ASSIGN_OR_RETURN(at::Tensor x, LoadTensor("x.pt"));   // torch.save(tensor)
//   FEATX_RETURN_IF_ERROR(SavePickle("out.pt", dict));         // torch.load-able
#pragma once

#include <string>

#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace featx::cli {

// A TorchScript archive (torch.jit.save), loaded on CPU.
[[nodiscard]] absl::StatusOr<torch::jit::Module> LoadModel(const std::string& path);

// A tensor saved with Python's torch.save.
[[nodiscard]] absl::StatusOr<at::Tensor> LoadTensor(const std::string& path);

// Writes `value` so Python's torch.load reads it back.
[[nodiscard]] absl::Status SavePickle(const std::string& path, const c10::IValue& value);

}  // namespace featx::cli
