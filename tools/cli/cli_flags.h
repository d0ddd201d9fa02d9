// Flags of the `featx` command line shared by its subcommands. The
// `--featx_*` configuration flags are the plugin's (plugin/host/flags.h).
#pragma once

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(bool, shapes);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, manifest);
ABSL_DECLARE_FLAG(std::string, triton_config);

namespace featx::cli {

// `--mode`, `--return_nodes`, `--train_return_nodes`, `--eval_return_nodes`
// (also `-mode`, and `--mode VALUE`) spelled `--featx_mode`, ...; arguments
// after `--` are left alone. InvalidArgument when one flag is given under
// both names.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> SpellOutShortNames(const std::vector<std::string>& args);

// The command line's defaults: the C++ API's (torchvision's dict mode), not
// a host's tap (plugin/host/flags.h). Call before parsing.
void UseLibraryDefaults();

}  // namespace featx::cli
