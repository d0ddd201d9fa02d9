#include "tools/cli/cli_flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "plugin/host/flags.h"

ABSL_FLAG(std::string, model, "",
          "TorchScript model file (torch.jit.save); names and rewrite also take an exported program (.pt2, "
          "torch.export.save).");
ABSL_FLAG(std::string, input, "",
          "Input tensor file (Python's torch.save(tensor, path)): for extract, names --shapes, rewrite "
          "--triton_config.");
ABSL_FLAG(std::string, format, "text", "names: output format, one of text, json, dot.");
ABSL_FLAG(bool, shapes, false, "names: run the model once on --input and print each eval node's shape and dtype.");
ABSL_FLAG(std::string, output, "",
          "extract: where to write {name: Tensor} (torch.load-able); rewrite: where to save the rewritten model.");
ABSL_FLAG(std::string, manifest, "", "rewrite: where to write the JSON manifest of what the model emits.");
ABSL_FLAG(std::string, triton_config, "",
          "rewrite --mode=tuple --input=X.pt: where to write a Triton config.pbtxt (platform pytorch_libtorch) with "
          "the model's input and output sections (OUTPUT__i, data type, dims; -1 where a batch-2 run differs).");

namespace featx::cli {
namespace {

constexpr std::pair<absl::string_view, absl::string_view> kShortNames[] = {
    {"mode", "featx_mode"},
    {"return_nodes", "featx_return_nodes"},
    {"train_return_nodes", "featx_train_return_nodes"},
    {"eval_return_nodes", "featx_eval_return_nodes"},
};

// The flag name `arg` gives (`--mode=x`, `-mode`: "mode"); "" for anything
// else.
absl::string_view FlagName(absl::string_view arg) {
  if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) return "";
  return arg.substr(0, arg.find('='));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SpellOutShortNames(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  std::vector<std::pair<absl::string_view, absl::string_view>> given;  // {as written, flag}
  bool after_dashes = false;
  for (const std::string& arg : args) {
    after_dashes |= arg == "--";
    const absl::string_view name = after_dashes ? "" : FlagName(arg);
    std::string spelled = arg;
    for (const auto& [short_name, long_name] : kShortNames) {
      if (name == short_name) {
        const absl::string_view written = arg;
        spelled = absl::StrCat("--", long_name, written.substr(written.find(short_name) + short_name.size()));
      }
      if (name != short_name && name != long_name) continue;
      for (const auto& [written, flag] : given) {
        if (flag == long_name && written != name) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", written, " and --", name, " are the same flag; give it once"));
        }
      }
      given.emplace_back(name, long_name);
    }
    out.push_back(std::move(spelled));
  }
  return out;
}

void UseLibraryDefaults() { absl::SetFlag(&FLAGS_featx_mode, std::string(ModeName(ExtractorOptions().mode))); }

}  // namespace featx::cli
