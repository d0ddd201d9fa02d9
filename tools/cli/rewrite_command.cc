// featx rewrite: rewrite a saved model offline and save it, with a manifest
// of what it emits.
#include <cstdio>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/featx.h"
#include "plugin/pending_file.h"
#include "plugin/status.h"
#include "tools/cli/cli_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/model_io.h"
#include "tools/cli/rewrite_options.h"

namespace featx::cli {

absl::Status RunRewrite() {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) return absl::InvalidArgumentError("give --output=R.pt, where the rewritten model is saved");
  FEATX_ASSIGN_OR_RETURN(ExtractorOptions options, ExtractorOptionsFromFlags());
  FEATX_ASSIGN_OR_RETURN(torch::jit::Module module, LoadModel(absl::GetFlag(FLAGS_model)));
  OutputManifest manifest;
  FEATX_RETURN_IF_ERROR(InstrumentInPlace(module, options, &manifest));
  FEATX_ASSIGN_OR_RETURN(const std::string json, TorchCall([&] { return ManifestJson(manifest); }));
  // Both files whole or neither: an error before the commits leaves any
  // earlier output as it was.
  FEATX_ASSIGN_OR_RETURN(PendingFile model_file, PendingFile::Create(output));
  const std::string manifest_path = absl::GetFlag(FLAGS_manifest);
  std::optional<PendingFile> manifest_file;
  if (!manifest_path.empty()) {
    FEATX_ASSIGN_OR_RETURN(manifest_file, PendingFile::Create(manifest_path));
    FEATX_RETURN_IF_ERROR(manifest_file->Write(json + "\n"));
  }
  FEATX_RETURN_IF_ERROR(TorchCall([&] { module.save(model_file.path()); }));
  FEATX_RETURN_IF_ERROR(model_file.Commit());
  if (manifest_file) FEATX_RETURN_IF_ERROR(manifest_file->Commit());
  std::printf("%s\nwrote %s (%s mode)%s\n", json.c_str(), output.c_str(), std::string(ModeName(manifest.mode)).c_str(),
              manifest.mode == Mode::kTap ? "; it needs libfeatx.so loaded to run" : "");
  return absl::OkStatus();
}

}  // namespace featx::cli
