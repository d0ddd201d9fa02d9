// Flags of the `featx` command line shared by its subcommands. The
// `--featx_*` configuration flags are the plugin's (plugin/flags.h).
#pragma once

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(bool, shapes);
