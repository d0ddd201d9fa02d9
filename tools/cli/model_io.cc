#include "tools/cli/model_io.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <torch/csrc/jit/serialization/import.h>
#include <torch/serialize.h>

#include "absl/strings/str_cat.h"
#include "plugin/host/pending_file.h"
#include "plugin/host/torch_save.h"
#include "plugin/status.h"

namespace featx::cli {
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
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<c10::IValue> value = TorchCall([&] { return torch::pickle_load(bytes); });
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a tensor saved with torch.save: ", value.status().message()));
  }
  if (!value->isTensor()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' holds a ", value->tagKind(),
                                                   ", not a tensor; save the input with torch.save(x, ...)"));
  }
  return value->toTensor();
}

absl::Status SavePickle(const std::string& path, const c10::IValue& value) {
  FEATX_ASSIGN_OR_RETURN(std::vector<char> bytes, TorchCall([&] { return TorchSave(value); }));
  FEATX_ASSIGN_OR_RETURN(PendingFile file, PendingFile::Create(path));
  FEATX_RETURN_IF_ERROR(file.Write(absl::string_view(bytes.data(), bytes.size())));
  return file.Commit();
}

}  // namespace featx::cli
