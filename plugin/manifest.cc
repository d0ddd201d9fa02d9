// featx::ManifestJson (plugin/featx.h).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/featx.h"

namespace featx {
namespace {

nlohmann::json Entries(Mode mode, const std::vector<ManifestEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    nlohmann::json entry;
    if (mode == Mode::kTuple) {
      entry["index"] = i;
      // Triton's PyTorch backend names a model's outputs by position.
      entry["triton_name"] = absl::StrCat("OUTPUT__", i);
    }
    entry["name"] = entries[i].name;
    entry["node"] = entries[i].node;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace

std::string ManifestJson(const OutputManifest& manifest) {
  nlohmann::json json;
  json["mode"] = std::string(ModeName(manifest.mode));
  json["train"] = Entries(manifest.mode, manifest.train);
  json["eval"] = Entries(manifest.mode, manifest.eval);
  return json.dump(2);
}

}  // namespace featx
