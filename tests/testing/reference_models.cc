#include "tests/testing/reference_models.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include <torch/csrc/jit/serialization/import.h>
#include <torch/serialize.h>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace featx::testing {
namespace {

// Where the test's models are in its runfiles: tests/models/, or the
// directory FEATX_TEST_MODEL_DIR names (tests/models/cross/ for the models the
// other torch version saved; see tests/cross/BUILD.bazel).
std::string ModelDir() {
  const char* dir = std::getenv("FEATX_TEST_MODEL_DIR");
  if (dir == nullptr || *dir == '\0') return "tests/models/";
  return absl::EndsWith(dir, "/") ? dir : absl::StrCat(dir, "/");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path, "; does the test depend on its model?"));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

absl::StatusOr<c10::Dict<std::string, at::Tensor>> LoadTensorDict(const std::string& path) {
  absl::StatusOr<c10::IValue> value = LoadPickled(path);
  if (!value.ok()) return value.status();
  if (!value->isGenericDict()) return absl::InvalidArgumentError(absl::StrCat(path, " does not hold a dict"));
  c10::Dict<std::string, at::Tensor> out;
  for (const auto& item : value->toGenericDict()) out.insert(item.key().toStringRef(), item.value().toTensor());
  return out;
}

}  // namespace

std::vector<std::string> AvailableReferenceModels() {
  constexpr absl::string_view kSuffix = ".names.json";
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ModelDir(), ec)) {
    const std::string file = entry.path().filename().string();
    if (absl::EndsWith(file, kSuffix)) names.push_back(file.substr(0, file.size() - kSuffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> FxTraceableReferenceModels() {
  std::vector<std::string> traceable;
  for (const std::string& name : AvailableReferenceModels()) {
    absl::StatusOr<std::string> text = ReadFile(absl::StrCat(ModelDir(), name, ".names.json"));
    if (!text.ok()) continue;
    nlohmann::json names = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!names.is_discarded() && !names.contains("error")) traceable.push_back(name);
  }
  return traceable;
}

std::vector<std::string> Keys(const c10::Dict<std::string, at::Tensor>& dict) {
  std::vector<std::string> keys;
  for (const auto& item : dict) keys.push_back(item.key());
  return keys;
}

absl::StatusOr<c10::IValue> LoadPickled(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  try {
    return torch::pickle_load(std::vector<char>(bytes->begin(), bytes->end()));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<ReferenceModel> LoadReferenceModel(const std::string& name) {
  const std::string base = absl::StrCat(ModelDir(), name);
  ReferenceModel ref;
  ref.name = name;
  try {
    ref.module = torch::jit::load(base + ".pt");
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(base, ".pt: ", e.what_without_backtrace()));
  }

  absl::StatusOr<c10::IValue> input = LoadPickled(base + ".input.pt");
  if (!input.ok()) return input.status();
  ref.input = input->toTensor();

  absl::StatusOr<std::string> names_text = ReadFile(base + ".names.json");
  if (!names_text.ok()) return names_text.status();
  nlohmann::json names = nlohmann::json::parse(*names_text, nullptr, /*allow_exceptions=*/false);
  if (names.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(base, ".names.json is not JSON"));
  if (names.contains("error")) {
    ref.trace_error = names["error"].get<std::string>();
  } else {
    ref.train_names = names["train"].get<std::vector<std::string>>();
    ref.eval_names = names["eval"].get<std::vector<std::string>>();
  }

  absl::StatusOr<c10::Dict<std::string, at::Tensor>> values = LoadTensorDict(base + ".values.pt");
  if (!values.ok()) return values.status();
  ref.values = *std::move(values);
  absl::StatusOr<c10::Dict<std::string, at::Tensor>> raw = LoadTensorDict(base + ".raw_values.pt");
  if (!raw.ok()) return raw.status();
  ref.raw_values = *std::move(raw);
  return ref;
}

ReferenceModel MustLoadReferenceModel(const std::string& name) {
  absl::StatusOr<ReferenceModel> ref = LoadReferenceModel(name);
  if (!ref.ok()) {
    std::fprintf(stderr, "test model %s: %s\n", name.c_str(), std::string(ref.status().message()).c_str());
    std::abort();
  }
  return *std::move(ref);
}

}  // namespace featx::testing
