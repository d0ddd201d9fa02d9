#include "tools/model_files.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <torch/csrc/jit/serialization/import.h>
#include <torch/serialize.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"

namespace featx {
namespace {

absl::Status CheckReadable(const std::string& what, const std::string& path) {
  std::error_code ec;
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(what, " file '", path, "' does not exist"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " file '", path, "' is a directory"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<torch::jit::Module> LoadModel(const std::string& path) {
  FEATX_RETURN_IF_ERROR(CheckReadable("model", path));
  absl::StatusOr<torch::jit::Module> module = TorchCall([&] { return torch::jit::load(path, at::kCPU); });
  if (!module.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path,
                     "' is not a TorchScript archive; featx reads models saved with torch.jit.save or "
                     "torch.jit.script(model).save (a state_dict from torch.save has no code to rewrite). torch said: ",
                     module.status().message()));
  }
  return module;
}

absl::StatusOr<at::Tensor> LoadTensor(const std::string& path) {
  FEATX_RETURN_IF_ERROR(CheckReadable("input", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, absl::StrCat("cannot read input file '", path, "'"));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<c10::IValue> value = TorchCall([&] { return torch::pickle_load(bytes); });
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a tensor saved with torch.save(x, path): ", value.status().message()));
  }
  if (!value->isTensor()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' holds a ", value->tagKind(),
                                                   value->isGenericDict() ? " (a state_dict?)" : "",
                                                   ", not a tensor; save the input with torch.save(x, path)"));
  }
  return value->toTensor();
}

}  // namespace featx
