// featx rewrite: rewrite a saved model offline and save it, with a manifest
// of what it emits.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/export/pt2_archive.h"
#include "plugin/export/rewrite_program.h"
#include "plugin/featx.h"
#include "plugin/host/pending_file.h"
#include "plugin/status.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/rewrite_options.h"
#include "tools/cli/triton_config.h"
#include "tools/model_files.h"

namespace featx::cli {
namespace {

// The rewritten program and its manifest, all files whole or none.
absl::Status RewriteProgramCommand(const std::string& path, const ExtractorOptions& options,
                                   const std::string& output) {
  if (!absl::GetFlag(FLAGS_triton_config).empty()) {
    return absl::InvalidArgumentError(
        "--triton_config describes TorchScript models; an exported program is served compiled (AOTInductor) or "
        "through torch.export.load");
  }
  FEATX_ASSIGN_OR_RETURN(Pt2Archive archive, Pt2Archive::Open(path));
  OutputManifest manifest;
  FEATX_ASSIGN_OR_RETURN(const nlohmann::json program, RewriteProgram(archive, options, &manifest));
  const std::string json = ManifestJson(manifest);
  FEATX_ASSIGN_OR_RETURN(PendingFile program_file, PendingFile::Create(output));
  std::optional<PendingFile> manifest_file;
  if (const std::string manifest_path = absl::GetFlag(FLAGS_manifest); !manifest_path.empty()) {
    FEATX_ASSIGN_OR_RETURN(manifest_file, PendingFile::Create(manifest_path));
    FEATX_RETURN_IF_ERROR(manifest_file->Write(json + "\n"));
  }
  FEATX_RETURN_IF_ERROR(archive.WriteWithProgram(program, program_file.path()));
  FEATX_RETURN_IF_ERROR(program_file.Commit());
  if (manifest_file.has_value()) FEATX_RETURN_IF_ERROR(manifest_file->Commit());
  std::printf("%s\nwrote %s (%s mode; torch.export.load reads it)\n", json.c_str(), output.c_str(),
              std::string(ModeName(manifest.mode)).c_str());
  return absl::OkStatus();
}

}  // namespace

absl::Status RewriteCommand() {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) return absl::InvalidArgumentError("give --output=R.pt, where the rewritten model is saved");
  FEATX_ASSIGN_OR_RETURN(ExtractorOptions options, ExtractorOptionsFromFlags());
  if (const std::string model = absl::GetFlag(FLAGS_model); Pt2Archive::IsPt2(model)) {
    return RewriteProgramCommand(model, options, output);
  }
  const std::string triton_path = absl::GetFlag(FLAGS_triton_config);
  if (!triton_path.empty()) FEATX_RETURN_IF_ERROR(CheckTritonMode(options.mode));
  if (!triton_path.empty() && absl::GetFlag(FLAGS_input).empty()) {
    return absl::InvalidArgumentError(
        "--triton_config needs --input=X.pt (a tensor saved with torch.save): the output dims come from a run");
  }
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module module, LoadModel(absl::GetFlag(FLAGS_model)));
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(module, options, &manifest));
  FEATX_ASSIGN_OR_RETURN(const std::string json, TorchCall([&] { return ManifestJson(manifest); }));
  std::string triton;
  if (!triton_path.empty()) {
    FEATX_ASSIGN_OR_RETURN(const at::Tensor input, LoadTensor(absl::GetFlag(FLAGS_input)));
    FEATX_ASSIGN_OR_RETURN(triton, TritonConfig(module, manifest, input));
  }
  // All files whole or none: an error before the commits leaves any earlier
  // output as it was.
  FEATX_ASSIGN_OR_RETURN(PendingFile model_file, PendingFile::Create(output));
  std::vector<PendingFile> side_files;
  for (const auto& [path, text] : {std::pair<std::string, std::string>(absl::GetFlag(FLAGS_manifest), json + "\n"),
                                   std::pair<std::string, std::string>(triton_path, triton)}) {
    if (path.empty()) continue;
    FEATX_ASSIGN_OR_RETURN(PendingFile file, PendingFile::Create(path));
    FEATX_RETURN_IF_ERROR(file.Write(text));
    side_files.push_back(std::move(file));
  }
  FEATX_RETURN_IF_ERROR(TorchCall([&] { module.save(model_file.path()); }, absl::StatusCode::kUnavailable));
  FEATX_RETURN_IF_ERROR(model_file.Commit());
  for (PendingFile& file : side_files) FEATX_RETURN_IF_ERROR(file.Commit());
  if (!triton_path.empty()) std::printf("wrote %s (Triton config)\n", triton_path.c_str());
  std::printf("%s\nwrote %s (%s mode)%s\n", json.c_str(), output.c_str(), std::string(ModeName(manifest.mode)).c_str(),
              manifest.mode == Mode::kTap ? "; it needs libfeatx.so loaded to run" : "");
  return absl::OkStatus();
}

}  // namespace featx::cli
