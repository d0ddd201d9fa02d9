// Runs a package AOTInductor compiled (torch._inductor.aoti_compile_and_package)
// as a C++ server does, through torch::inductor::AOTIModelPackageLoader: here
// one compiled from a program featx rewrote, whose outputs include the chosen
// activations (docs/export.md, "Serving from C++").
//
//   aoti_runner PACKAGE.pt2 INPUT.pt OUTPUTS.pt
//   # OUTPUTS.pt: torch.load(...) -> [tensor, ...], the program's flat outputs
//
// Built against any libtorch; one without AOTInductor's loader (1.13) says so
// and exits 2.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/ivalue.h>

#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define FEATX_HAS_AOTI_LOADER 1
#else
#define FEATX_HAS_AOTI_LOADER 0
#endif

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "plugin/host/pending_file.h"
#include "plugin/host/torch_save.h"
#include "plugin/status.h"
#include "tools/model_files.h"

namespace {

absl::Status Run(const std::string& package, const std::string& input, const std::string& output) {
#if FEATX_HAS_AOTI_LOADER
  if (std::error_code ec; !std::filesystem::is_regular_file(package, ec)) {
    return absl::NotFoundError(absl::StrCat("package '", package, "' does not exist"));
  }
  FEATX_ASSIGN_OR_RETURN(const at::Tensor x, featx::LoadTensor(input));
  FEATX_ASSIGN_OR_RETURN(featx::PendingFile file, featx::PendingFile::Create(output));
  FEATX_ASSIGN_OR_RETURN(const std::vector<char> bytes, featx::TorchCall([&] {
                           torch::inductor::AOTIModelPackageLoader loader(package);
                           // A plain list (a tensor list pickles as TorchScript's).
                           c10::impl::GenericList outputs(c10::AnyType::get());
                           for (const at::Tensor& out : loader.run({x})) outputs.push_back(out);
                           return featx::TorchSave(c10::IValue(outputs));
                         }));
  FEATX_RETURN_IF_ERROR(file.Write(std::string(bytes.begin(), bytes.end())));
  return file.Commit();
#else
  (void)package, (void)input, (void)output;
  return absl::FailedPreconditionError("this libtorch has no AOTInductor package loader (torch 2.6 or newer has)");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: aoti_runner PACKAGE.pt2 INPUT.pt OUTPUTS.pt\n");
    return 2;
  }
  const absl::Status status = Run(argv[1], argv[2], argv[3]);
  if (!status.ok()) {
    std::fprintf(stderr, "aoti_runner: %s\n", std::string(status.message()).c_str());
    return featx::ExitCode(status);
  }
  return 0;
}
