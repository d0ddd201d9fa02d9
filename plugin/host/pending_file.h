// An output file written whole or not at all: featx's commands and entry
// points write to a temporary file beside the destination and rename it into
// place only when everything they were asked to do has succeeded. A reader
// never sees half a file, and on any error the destination is as it was.
//
//   FEATX_ASSIGN_OR_RETURN(featx::PendingFile model_file, featx::PendingFile::Create("out/model.pt"));
//   FEATX_ASSIGN_OR_RETURN(featx::PendingFile manifest_file, featx::PendingFile::Create("out/model.json"));
//   module.save(model_file.path());
//   FEATX_RETURN_IF_ERROR(manifest_file.Write(json));
//   FEATX_RETURN_IF_ERROR(model_file.Commit());      // only now do the outputs appear
//   FEATX_RETURN_IF_ERROR(manifest_file.Commit());
//   // a PendingFile never committed removes its temporary file
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace featx {

class PendingFile {
 public:
  // Creates `.<name>.featx-XXXXXX` (O_EXCL, never through a planted link) in
  // the destination's directory. Errors name the destination: its directory
  // does not exist or takes no file (PermissionDenied / NotFound).
  [[nodiscard]] static absl::StatusOr<PendingFile> Create(const std::string& destination);

  PendingFile(PendingFile&& other) noexcept;
  PendingFile& operator=(PendingFile&& other) noexcept;
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile();

  // Where to write (the temporary file).
  const std::string& path() const { return temporary_; }
  const std::string& destination() const { return destination_; }

  // Writes `bytes` to the temporary file, checking every step.
  [[nodiscard]] absl::Status Write(absl::string_view bytes);

  // Renames the temporary file over the destination. The file keeps the
  // mode the process's umask gives new files.
  [[nodiscard]] absl::Status Commit();

 private:
  PendingFile(std::string destination, std::string temporary)
      : destination_(std::move(destination)), temporary_(std::move(temporary)) {}

  std::string destination_;
  std::string temporary_;  // empty once committed or moved from
};

}  // namespace featx
