// Flags of the `featx` command line shared by its subcommands. The
// `--featx_*` configuration flags are the plugin's (plugin/flags.h).
#pragma once

#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(bool, shapes);
ABSL_DECLARE_FLAG(std::vector<std::string>, return_nodes);
ABSL_DECLARE_FLAG(std::vector<std::string>, train_return_nodes);
ABSL_DECLARE_FLAG(std::vector<std::string>, eval_return_nodes);
ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, manifest);
ABSL_DECLARE_FLAG(std::string, triton_config);
