// The files featx's programs are given, read with errors that say what is
// wrong with the file rather than where torch failed. Shared by the featx
// command line and featx_host, which links no featx code but this.
//
//   FEATX_ASSIGN_OR_RETURN(torch::jit::Module m, LoadModel("resnet18.pt"));
//   FEATX_ASSIGN_OR_RETURN(at::Tensor x, LoadTensor("x.pt"));   // torch.save(tensor)
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"

namespace featx {

// A TorchScript archive (torch.jit.save), loaded on CPU. NotFound when there
// is no such file; InvalidArgument when it is a directory or not an archive.
[[nodiscard]] absl::StatusOr<torch::jit::Module> LoadModel(const std::string& path);

// A tensor saved with Python's torch.save. NotFound when there is no such
// file; InvalidArgument when it holds something else (a state_dict says so).
[[nodiscard]] absl::StatusOr<at::Tensor> LoadTensor(const std::string& path);

}  // namespace featx
