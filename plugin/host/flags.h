// featx's configuration flags (abseil flags, all prefixed `featx_`), and the
// places a host sets them.
//
// 1. The flags string of the C entry point (plugin/c_api.h), which is where
//    a host puts the --featx_* flags of its own command line (featx_host
//    does; its --helpfull lists them through featx_flags_help).
// 2. The FEATX_FLAGS environment variable, for hosts that cannot be changed:
//    FEATX_FLAGS="--featx_return_nodes=layer1,fc --featx_spool_dir=/tmp/acts"
// 3. A program that links featx (the featx command line) parses them on its
//    own command line; libfeatx.so keeps its abseil and flag registry to
//    itself, so a host's command line never reaches the plugin's.
// The program's flags, then FEATX_FLAGS, then the string: later ones win.
// None of them changes the process's flag values.
//
//   FEATX_ASSIGN_OR_RETURN(featx::Config config, featx::ConfigFromFlags("--featx_mode=dict"));
//   FEATX_RETURN_IF_ERROR(featx::InstrumentInPlace(model, config.extractor));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/options.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, featx_return_nodes);
ABSL_DECLARE_FLAG(std::vector<std::string>, featx_train_return_nodes);
ABSL_DECLARE_FLAG(std::vector<std::string>, featx_eval_return_nodes);
ABSL_DECLARE_FLAG(std::string, featx_mode);
ABSL_DECLARE_FLAG(std::vector<std::string>, featx_leaf_modules);
ABSL_DECLARE_FLAG(std::vector<std::string>, featx_leaf_functions);
ABSL_DECLARE_FLAG(std::vector<std::string>, featx_concrete_args);
ABSL_DECLARE_FLAG(std::string, featx_tracer);
ABSL_DECLARE_FLAG(bool, featx_suppress_diff_warning);
ABSL_DECLARE_FLAG(std::string, featx_spool_dir);
ABSL_DECLARE_FLAG(int32_t, featx_spool_max_files);
ABSL_DECLARE_FLAG(bool, featx_log_activations);

namespace featx {

// Where activations captured without a capture of the host's go
// (plugin/host/sinks.h): hosts that know nothing of featx run tap-mode models.
struct SinkOptions {
  // One torch.load-able {tag: Tensor} file per request, the oldest removed
  // past `spool_max_files`. Empty: no spool.
  std::string spool_dir;
  int32_t spool_max_files = 100;
  // Per tag and request: shape, mean, std, min, max, through the host's
  // logging.
  bool log_activations = false;

  bool any() const { return !spool_dir.empty() || log_activations; }
};

// Everything a host configures with featx's flags. Its defaults are the
// flags' defaults (flags.cc reads them from here): those of the C++ API,
// except the mode, which is tap: a host that only names return nodes keeps
// its responses as they were and captures through featx::tap.
struct Config {
  Config() { extractor.mode = Mode::kTap; }

  ExtractorOptions extractor;
  SinkOptions sinks;
  // Register the executor hook (plugin/host/executor_hook.h) at load.
  bool executor_hook = false;
};

// The process's flag values (defaults, or what the host's command line or
// absl::SetFlag set), each checked as in FEATX_FLAGS; errors name the flag as
// `command line: --featx_spool_max_files=0: keep at least one file`.
[[nodiscard]] absl::StatusOr<Config> ConfigFromProcessFlags();

// Applies `--featx_name=value` tokens (whitespace-separated; booleans also
// as `--featx_name` and `--nofeatx_name`) to `config`. Errors
// (InvalidArgument) start with the token as written (`--featx_mode=bogus:
// unknown mode 'bogus'; ...`): an unknown flag (with the closest names), a
// token that is not a flag, a value that does not parse or is out of range.
[[nodiscard]] absl::Status ApplyFlags(absl::string_view flags, Config* config);

// Every featx flag as `--featx_name (help); default: value;`, one a line,
// in --helpfull's form, for a host's own usage text.
std::string FlagsHelp();

// The process's flags, then FEATX_FLAGS, then `flags`; an error says which
// of the three it came from (`FEATX_FLAGS: --featx_mode=bogus: ...`).
[[nodiscard]] absl::StatusOr<Config> ConfigFromFlags(absl::string_view flags);

}  // namespace featx
