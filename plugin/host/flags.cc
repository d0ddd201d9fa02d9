#include "plugin/host/flags.h"

#include <cstdlib>
#include <functional>
#include <map>
#include <type_traits>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "plugin/did_you_mean.h"
#include "plugin/status.h"

namespace featx {
namespace {

// A flag's default, written as the flag holds it.
template <typename T>
T FlagDefault(const T& value) {
  return value;
}
std::string FlagDefault(Mode mode) { return std::string(ModeName(mode)); }

}  // namespace
}  // namespace featx

// Each flag's default is Config's (flags.h), so the two cannot drift apart.
// Inside libfeatx.so these register in the plugin's own abseil (linked in,
// its symbols local): a second copy of the plugin, or a host with its own
// abseil, has a registry of its own, and no name is ever defined twice.
#define FEATX_DEFINE_FLAG_(type, name, field, check, help) \
  ABSL_FLAG(type, name, featx::FlagDefault(featx::Config().field), help);
FEATX_FLAG_TABLE(FEATX_DEFINE_FLAG_)
#undef FEATX_DEFINE_FLAG_

namespace featx {
namespace {

// Parses a flag's text into its Config field. Errors carry only the reason;
// ApplyToken names the flag as it was written.
template <typename T>
absl::Status Set(absl::string_view text, T* value) {
  std::string error;
  if (!absl::ParseFlag(text, value, &error)) return absl::InvalidArgumentError(error);
  return absl::OkStatus();
}
absl::Status Set(absl::string_view text, Mode* mode) {
  FEATX_ASSIGN_OR_RETURN(*mode, ParseMode(text));
  return absl::OkStatus();
}

// The checks of FEATX_FLAG_TABLE.
template <typename T>
absl::Status AnyValue(const T&) {
  return absl::OkStatus();
}
absl::Status AtLeastOneFile(int32_t files) {
  return files < 1 ? absl::InvalidArgumentError("keep at least one file") : absl::OkStatus();
}

struct Rule {
  std::function<absl::Status(absl::string_view value, Config*)> set;
  bool boolean;  // may be written --featx_name or --nofeatx_name
};

// One rule per flag, wherever the value comes from (a host's command line,
// FEATX_FLAGS, the C API's string), by name.
const std::map<std::string, Rule>& Rules() {
#define FEATX_RULE_(type, name, field, check, help)      \
  {#name,                                                \
   {[](absl::string_view value, Config* config) {        \
      FEATX_RETURN_IF_ERROR(Set(value, &config->field)); \
      return check(config->field);                       \
    },                                                   \
    std::is_same_v<type, bool>}},
  static const auto* rules = new std::map<std::string, Rule>{FEATX_FLAG_TABLE(FEATX_RULE_)};
#undef FEATX_RULE_
  return *rules;
}

bool IsBoolFlag(absl::string_view name) {
  auto it = Rules().find(std::string(name));
  return it != Rules().end() && it->second.boolean;
}

absl::Status ApplyToken(absl::string_view written, Config* config) {
  absl::string_view token = written;
  if (!absl::ConsumePrefix(&token, "--")) absl::ConsumePrefix(&token, "-");
  const size_t eq = token.find('=');
  std::string name(token.substr(0, eq));
  std::string value = eq == absl::string_view::npos ? "" : std::string(token.substr(eq + 1));
  if (eq == absl::string_view::npos && absl::StartsWith(name, "nofeatx_") && IsBoolFlag(name.substr(2))) {
    name = name.substr(2);
    value = "false";
  } else if (eq == absl::string_view::npos && IsBoolFlag(name)) {
    value = "true";
  }
  auto it = Rules().find(name);
  if (it == Rules().end()) {
    std::vector<std::string> names;
    for (const auto& [known, rule] : Rules()) names.push_back(absl::StrCat("--", known));
    return absl::InvalidArgumentError(
        absl::StrCat("unknown featx flag '--", name, "'", DidYouMean(absl::StrCat("--", name), names, 1)));
  }
  if (eq == absl::string_view::npos && !it->second.boolean) {
    return absl::InvalidArgumentError(absl::StrCat(written, " needs a value: --", name, "=..."));
  }
  absl::Status status = it->second.set(value, config);
  if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat(written, ": ", status.message()));
  return absl::OkStatus();
}

// `source: ` before an error from flags the user gave there.
absl::Status From(absl::string_view source, absl::Status status) {
  if (status.ok() || source.empty()) return status;
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", status.message()));
}

}  // namespace

absl::StatusOr<Config> ConfigFromProcessFlags() {
  Config config;
  // Each flag the host set (on its command line or with absl::SetFlag) goes
  // through the same rule as in FEATX_FLAGS, written as abseil prints it.
  for (const auto& [name, rule] : Rules()) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || flag->CurrentValue() == flag->DefaultValue()) continue;
    FEATX_RETURN_IF_ERROR(
        From("command line", ApplyToken(absl::StrCat("--", name, "=", flag->CurrentValue()), &config)));
  }
  return config;
}

namespace {

// `text` wrapped at 80 columns as abseil's --helpfull wraps a flag: the
// first line indented 4, the rest 6.
std::string WrapAsHelp(absl::string_view text) {
  std::string wrapped = "   ";
  size_t line = wrapped.size();
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line + 1 + word.size() > 80 && line > 6) {
      absl::StrAppend(&wrapped, "\n     ");
      line = 5;
    }
    absl::StrAppend(&wrapped, " ", word);
    line += 1 + word.size();
  }
  return absl::StrCat(wrapped, "\n");
}

}  // namespace

std::string FlagsHelp() {
  std::string help;
  for (const auto& [name, rule] : Rules()) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    help += WrapAsHelp(absl::StrFormat("--%s (%s); default: %s;", name, flag->Help(),
                                       flag->DefaultValue().empty() ? "\"\"" : flag->DefaultValue()));
  }
  return help;
}

absl::Status ApplyFlags(absl::string_view flags, Config* config) {
  for (absl::string_view token : absl::StrSplit(flags, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    FEATX_RETURN_IF_ERROR(ApplyToken(token, config));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ConfigFromFlags(absl::string_view flags) {
  FEATX_ASSIGN_OR_RETURN(Config config, ConfigFromProcessFlags());
  if (const char* env = std::getenv("FEATX_FLAGS"); env != nullptr) {
    FEATX_RETURN_IF_ERROR(From("FEATX_FLAGS", ApplyFlags(env, &config)));
  }
  FEATX_RETURN_IF_ERROR(ApplyFlags(flags, &config));
  return config;
}

}  // namespace featx
