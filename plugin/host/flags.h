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

// Every featx flag, once: X(the flag's type, its name, the Config field it
// sets, whose default is the flag's default, a check of the parsed value,
// its help). flags.cc defines the abseil flags and the rule of each from this
// table. Adding a flag is a line here (and, for a new kind of value, a Set
// overload in flags.cc); the tests count the flags (tests/host/flags_test.cc).
#define FEATX_FLAG_TABLE(X)                                                                            \
  X(std::vector<std::string>, featx_return_nodes, extractor.return_nodes, AnyValue,                    \
    "Nodes the model emits, comma-separated: node names or prefixes (`layer1` is the last node under " \
    "layer1), each optionally `spec:output_name`. Names as torchvision's get_graph_node_names.")       \
  X(std::vector<std::string>, featx_train_return_nodes, extractor.train_return_nodes, AnyValue,        \
    "Instead of --featx_return_nodes: the nodes in train mode (with --featx_eval_return_nodes).")      \
  X(std::vector<std::string>, featx_eval_return_nodes, extractor.eval_return_nodes, AnyValue,          \
    "Instead of --featx_return_nodes: the nodes in eval mode (with --featx_train_return_nodes).")      \
  X(std::string, featx_mode, extractor.mode, AnyValue,                                                 \
    "What the rewritten forward returns: tap (its own output; featx::tap records the nodes for a "     \
    "capture or a sink), dict ({name: Tensor} of the nodes), tuple (its own outputs, then the nodes; " \
    "for Triton).")                                                                                    \
  X(std::vector<std::string>, featx_leaf_modules, extractor.leaf_modules, AnyValue,                    \
    "Comma-separated module classes to keep as single nodes besides torch.nn's and torchvision.ops' "  \
    "(bare `MyBlock` or qualified `mymodels.MyBlock`); each must occur in the model.")                 \
  X(std::vector<std::string>, featx_leaf_functions, extractor.leaf_functions, AnyValue,                \
    "Comma-separated Python functions to keep as single nodes, as FX keeps the functions it wraps (a " \
    "library's autowrap_functions, e.g. timm.models.swin_transformer.window_reverse, or its bare name" \
    " where only one function of the model has it); each must be called by the model.")                \
  X(std::string, featx_tracer, extractor.tracer, AnyValue,                                             \
    "A library's registries of leaf modules and functions to add to the above, so names equal that "   \
    "library's feature extraction: timm (timm.models.get_graph_node_names), or torchvision (nothing "  \
    "added).")                                                                                         \
  X(std::vector<std::string>, featx_concrete_args, extractor.concrete_args, AnyValue,                  \
    "Comma-separated forward arguments fixed before naming, as name=value (None, True, False, an int " \
    "or a float), as torchvision's concrete_args: branches on them fold as FX decides them, and "      \
    "forward checks each call passes that value, e.g. attn_mask=None,is_causal=False.")                \
  X(bool, featx_suppress_diff_warning, extractor.suppress_diff_warning, AnyValue,                      \
    "Do not warn when the model's train-mode and eval-mode node names differ.")                        \
  X(std::vector<std::string>, featx_passes, extractor.passes, AnyValue,                                \
    "Advanced: the registered featx passes to run at load time, comma-separated, in order (a host's "  \
    "own pipeline; they must end with featx.merge_train_eval). Empty: featx's load-time pipeline for " \
    "the mode. Loading the plugin lists them: featx passes, or torch.ops.featx.list_passes().")        \
  X(bool, featx_executor_hook, executor_hook, AnyValue,                                                \
    "Opt-in, for hosts that cannot call featx at all: tap --featx_return_nodes (leaf module calls) in" \
    " every graph TorchScript's graph executor optimizes. Fires at the second no-grad call of "        \
    "forward, not at load; read from FEATX_FLAGS when the plugin loads. See "                          \
    "plugin/host/executor_hook.h.")                                                                    \
  X(std::string, featx_spool_dir, sinks.spool_dir, AnyValue,                                           \
    "Tap mode in a host that opens no capture: write each request's activations to this directory, "   \
    "one torch.load-able {tag: Tensor} file per request.")                                             \
  X(int32_t, featx_spool_max_files, sinks.spool_max_files, AtLeastOneFile,                             \
    "Keep at most this many files in --featx_spool_dir; oldest go first.")                             \
  X(bool, featx_log_activations, sinks.log_activations, AnyValue,                                      \
    "Tap mode in a host that opens no capture: log each request's activations (shape, mean, std, min," \
    " max) through the host's logging.")

#define FEATX_DECLARE_FLAG_(type, name, field, check, help) ABSL_DECLARE_FLAG(type, name);
FEATX_FLAG_TABLE(FEATX_DECLARE_FLAG_)
#undef FEATX_DECLARE_FLAG_

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
