#include "plugin/host/flags.h"

#include <cstdlib>
#include <functional>
#include <map>

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

// Each flag's default is Config's (flags.h), so the two cannot drift apart.
// Inside libfeatx.so these register in the plugin's own abseil (linked in,
// its symbols local): a second copy of the plugin, or a host with its own
// abseil, has a registry of its own, and no name is ever defined twice.
ABSL_FLAG(std::vector<std::string>, featx_return_nodes, featx::Config().extractor.return_nodes,
          "Nodes the model emits, comma-separated: node names or prefixes (`layer1` is the last node under "
          "layer1), each optionally `spec:output_name`. Names as torchvision's get_graph_node_names.");
ABSL_FLAG(std::vector<std::string>, featx_train_return_nodes, featx::Config().extractor.train_return_nodes,
          "Instead of --featx_return_nodes: the nodes in train mode (with --featx_eval_return_nodes).");
ABSL_FLAG(std::vector<std::string>, featx_eval_return_nodes, featx::Config().extractor.eval_return_nodes,
          "Instead of --featx_return_nodes: the nodes in eval mode (with --featx_train_return_nodes).");
ABSL_FLAG(std::string, featx_mode, std::string(featx::ModeName(featx::Config().extractor.mode)),
          "What the rewritten forward returns: tap (its own output; featx::tap records the nodes for a capture or "
          "a sink), dict ({name: Tensor} of the nodes), tuple (its own outputs, then the nodes; for Triton).");
ABSL_FLAG(std::vector<std::string>, featx_leaf_modules, featx::Config().extractor.leaf_modules,
          "Comma-separated module classes to keep as single nodes besides torch.nn's and torchvision.ops' "
          "(bare `MyBlock` or qualified `mymodels.MyBlock`); each must occur in the model.");
ABSL_FLAG(std::vector<std::string>, featx_leaf_functions, featx::Config().extractor.leaf_functions,
          "Comma-separated Python functions to keep as single nodes, as FX keeps the functions it wraps (a "
          "library's autowrap_functions, e.g. timm.models.swin_transformer.window_reverse, or its bare name "
          "where only one function of the model has it); each must be called by the model.");
ABSL_FLAG(std::string, featx_tracer, featx::Config().extractor.tracer,
          "A library's registries of leaf modules and functions to add to the above, so names equal that "
          "library's feature extraction: timm (timm.models.get_graph_node_names), or torchvision (nothing added).");
ABSL_FLAG(std::vector<std::string>, featx_concrete_args, featx::Config().extractor.concrete_args,
          "Comma-separated forward arguments fixed before naming, as name=value (None, True, False, an int or a "
          "float), as torchvision's concrete_args: branches on them fold as FX decides them, and forward checks "
          "each call passes that value, e.g. attn_mask=None,is_causal=False.");
ABSL_FLAG(bool, featx_suppress_diff_warning, featx::Config().extractor.suppress_diff_warning,
          "Do not warn when the model's train-mode and eval-mode node names differ.");
ABSL_FLAG(std::vector<std::string>, featx_passes, featx::Config().extractor.passes,
          "Advanced: the registered featx passes to run at load time, comma-separated, in order (a host's own "
          "pipeline; they must end with featx.merge_train_eval). Empty: featx's load-time pipeline for the mode. "
          "Loading the plugin lists them: featx passes, or torch.ops.featx.list_passes().");
ABSL_FLAG(bool, featx_executor_hook, featx::Config().executor_hook,
          "Opt-in, for hosts that cannot call featx at all: tap --featx_return_nodes (leaf module calls) in every "
          "graph TorchScript's graph executor optimizes. Fires at the second no-grad call of forward, not at "
          "load; read from FEATX_FLAGS when the plugin loads. See plugin/host/executor_hook.h.");
ABSL_FLAG(std::string, featx_spool_dir, featx::Config().sinks.spool_dir,
          "Tap mode in a host that opens no capture: write each request's activations to this directory, one "
          "torch.load-able {tag: Tensor} file per request.");
ABSL_FLAG(int32_t, featx_spool_max_files, featx::Config().sinks.spool_max_files,
          "Keep at most this many files in --featx_spool_dir; oldest go first.");
ABSL_FLAG(bool, featx_log_activations, featx::Config().sinks.log_activations,
          "Tap mode in a host that opens no capture: log each request's activations (shape, mean, std, min, max) "
          "through the host's logging.");

namespace featx {
namespace {

// Errors carry only the reason; ApplyToken names the flag as it was written.
template <typename T>
absl::Status Parse(absl::string_view text, T* value) {
  std::string error;
  if (!absl::ParseFlag(text, value, &error)) return absl::InvalidArgumentError(error);
  return absl::OkStatus();
}

using Setter = std::function<absl::Status(absl::string_view value, Config*)>;

// One rule per flag, wherever the value comes from (a host's command line,
// FEATX_FLAGS, the C API's string).
const std::map<std::string, Setter>& Setters() {
  static const auto* setters = new std::map<std::string, Setter>{
      {"featx_return_nodes", [](auto v, Config* c) { return Parse(v, &c->extractor.return_nodes); }},
      {"featx_train_return_nodes", [](auto v, Config* c) { return Parse(v, &c->extractor.train_return_nodes); }},
      {"featx_eval_return_nodes", [](auto v, Config* c) { return Parse(v, &c->extractor.eval_return_nodes); }},
      {"featx_mode",
       [](auto v, Config* c) {
         FEATX_ASSIGN_OR_RETURN(c->extractor.mode, ParseMode(v));
         return absl::OkStatus();
       }},
      {"featx_leaf_modules", [](auto v, Config* c) { return Parse(v, &c->extractor.leaf_modules); }},
      {"featx_leaf_functions", [](auto v, Config* c) { return Parse(v, &c->extractor.leaf_functions); }},
      {"featx_concrete_args", [](auto v, Config* c) { return Parse(v, &c->extractor.concrete_args); }},
      {"featx_tracer", [](auto v, Config* c) { return Parse(v, &c->extractor.tracer); }},
      {"featx_suppress_diff_warning", [](auto v, Config* c) { return Parse(v, &c->extractor.suppress_diff_warning); }},
      {"featx_passes", [](auto v, Config* c) { return Parse(v, &c->extractor.passes); }},
      {"featx_executor_hook", [](auto v, Config* c) { return Parse(v, &c->executor_hook); }},
      {"featx_spool_dir", [](auto v, Config* c) { return Parse(v, &c->sinks.spool_dir); }},
      {"featx_spool_max_files",
       [](auto v, Config* c) {
         FEATX_RETURN_IF_ERROR(Parse(v, &c->sinks.spool_max_files));
         if (c->sinks.spool_max_files < 1) return absl::InvalidArgumentError("keep at least one file");
         return absl::OkStatus();
       }},
      {"featx_log_activations", [](auto v, Config* c) { return Parse(v, &c->sinks.log_activations); }},
  };
  return *setters;
}

bool IsBoolFlag(absl::string_view name) {
  return name == "featx_suppress_diff_warning" || name == "featx_log_activations" || name == "featx_executor_hook";
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
  auto it = Setters().find(name);
  if (it == Setters().end()) {
    std::vector<std::string> names;
    for (const auto& [known, setter] : Setters()) names.push_back(absl::StrCat("--", known));
    return absl::InvalidArgumentError(
        absl::StrCat("unknown featx flag '--", name, "'", DidYouMean(absl::StrCat("--", name), names, 1)));
  }
  if (eq == absl::string_view::npos && !IsBoolFlag(name)) {
    return absl::InvalidArgumentError(absl::StrCat(written, " needs a value: --", name, "=..."));
  }
  absl::Status status = it->second(value, config);
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
  for (const auto& [name, setter] : Setters()) {
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
  for (const auto& [name, setter] : Setters()) {
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
