#include "plugin/export/pt2_archive.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <utility>

#include <caffe2/serialize/inline_container.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "plugin/status.h"
#include "plugin/torch_compat.h"

namespace featx {
namespace {

constexpr char kProgramRecord[] = "models/model.json";
// What torch's stream writer makes for each archive it writes.
constexpr char kSerializationIdRecord[] = ".data/serialization_id";

std::string RecordText(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name) {
  auto [data, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(data.get()), size);
}

}  // namespace

bool Pt2Archive::IsPt2(const std::string& path) {
  if (absl::EndsWith(path, ".pt2")) return true;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  absl::StatusOr<bool> has_program = TorchCall([&] {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.hasRecord(kProgramRecord);
  });
  return has_program.ok() && *has_program;
}

absl::StatusOr<Pt2Archive> Pt2Archive::Open(const std::string& path) {
  if (!FEATX_TORCH_AT_LEAST(2, 0)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' is an exported program (.pt2); this featx is built against libtorch ",
                     compat::kTorchVersion, ", which has no torch.export: use featx built against torch 2.x"));
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("program file '", path, "' does not exist"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("program file '", path, "' is a directory"));
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  if (absl::Status opened = TorchCall([&] { reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path); });
      !opened.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not a .pt2 archive (torch.export.save writes one); torch said: ", opened.message()));
  }
  if (!reader->hasRecord(kProgramRecord)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' holds no exported program (no ", kProgramRecord, ")",
                     reader->hasRecord("code/__torch__.py") || reader->hasRecord("constants.pkl")
                         ? "; it is a TorchScript archive: give it a name that does not end in .pt2"
                         : "; save one with torch.export.save(torch.export.export(model, args), path)"));
  }
  Pt2Archive archive;
  archive.path_ = path;
  FEATX_ASSIGN_OR_RETURN(std::string text, TorchCall([&] { return RecordText(*reader, kProgramRecord); }));
  archive.program_ = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (archive.program_.is_discarded() || !archive.program_.is_object() || !archive.program_.contains("graph_module")) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': ", kProgramRecord, " is not torch.export's serialized program"));
  }
  const nlohmann::json& version = archive.program_["schema_version"];
  const int major = version.is_object() && version.value("major", nlohmann::json()).is_number_integer()
                        ? version["major"].get<int>()
                        : -1;
  if (major != kSchemaMajor) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' has torch.export schema version ", major, ".",
                                                   major == -1 ? "?" : version.value("minor", nlohmann::json()).dump(),
                                                   "; featx reads version ", kSchemaMajor, ".x (torch 2.x's)"));
  }
  return archive;
}

absl::Status Pt2Archive::WriteWithProgram(const nlohmann::json& program, const std::string& path) const {
  const std::string text = program.dump();
  return TorchCall(
      [&] {
        caffe2::serialize::PyTorchStreamReader reader(path_);
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        TORCH_CHECK(file.is_open(), "cannot open '", path, "' for writing");
        caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) -> size_t {
          file.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
          return file ? size : 0;
        });
        for (std::string name : reader.getAllRecords()) {
          // Names come without the archive's own directory; strip it where a
          // torch gives it.
          if (!reader.hasRecord(name)) name = name.substr(name.find('/') + 1);
          if (name == kSerializationIdRecord) continue;
          if (name == kProgramRecord) {
            writer.writeRecord(name, text.data(), text.size());
            continue;
          }
          auto [data, size] = reader.getRecord(name);
          writer.writeRecord(name, data.get(), size);
        }
        writer.writeEndOfFile();
        file.close();
        TORCH_CHECK(!file.fail(), "writing '", path, "' failed");
      },
      absl::StatusCode::kUnavailable);
}

}  // namespace featx
