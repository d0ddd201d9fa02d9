// An exported program's archive (torch.export.save, a `.pt2` file): its
// serialized program (`<archive>/models/model.json`) read without Python,
// with errors that say what the file is when it is not one, and written
// back with a rewritten program.
//
//   FEATX_ASSIGN_OR_RETURN(Pt2Archive archive, Pt2Archive::Open("resnet18.pt2"));
//   const nlohmann::json& program = archive.program();   // {"graph_module": ..., "schema_version": ...}
//   FEATX_RETURN_IF_ERROR(archive.WriteWithProgram(rewritten, "out.pt2"));
//
// Only for featx built against torch 2.x (docs/export.md): torch 1.13 has no
// torch.export, and Open says so.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace featx {

class Pt2Archive {
 public:
  // The schema major version of torch.export's serializer featx reads
  // (torch 2.15 writes 8.20).
  static constexpr int kSchemaMajor = 8;

  // Reads the archive's program. NotFound when there is no such file;
  // InvalidArgument when it is not a zip archive, holds no exported program
  // (a TorchScript archive says so), or its schema's major version is not
  // kSchemaMajor.
  static absl::StatusOr<Pt2Archive> Open(const std::string& path);

  // Whether `path` names an exported program's archive rather than a
  // TorchScript one: a `.pt2` name, or a zip archive holding
  // `models/model.json`.
  static bool IsPt2(const std::string& path);

  // Writes a copy of this archive to `path` with `program` in place of its
  // own: every other record (weights, constants, sample inputs) byte for
  // byte, under the archive name torch gives a stream ("archive/"), with a
  // new serialization id. Unavailable when writing fails; `path` is then
  // partly written (write it through a PendingFile).
  [[nodiscard]] absl::Status WriteWithProgram(const nlohmann::json& program, const std::string& path) const;

  const nlohmann::json& program() const { return program_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  nlohmann::json program_;
};

}  // namespace featx
