#include "tools/cli/rewrite_options.h"

#include "absl/flags/flag.h"
#include "plugin/flags.h"
#include "plugin/status.h"
#include "tools/cli/cli_flags.h"

namespace featx::cli {

absl::StatusOr<ExtractorOptions> ExtractorOptionsFromFlags() {
  const TracerOptions tracer = TracerOptionsFromFlags();
  ExtractorOptions options;
  options.return_nodes = absl::GetFlag(FLAGS_return_nodes);
  options.train_return_nodes = absl::GetFlag(FLAGS_train_return_nodes);
  options.eval_return_nodes = absl::GetFlag(FLAGS_eval_return_nodes);
  options.leaf_modules = tracer.leaf_modules;
  options.suppress_diff_warning = tracer.suppress_diff_warning;
  // A pipeline of the user's own (`featx passes` lists them); empty: featx's.
  FEATX_ASSIGN_OR_RETURN(const Config process, ConfigFromProcessFlags());
  options.passes = process.extractor.passes;
  FEATX_ASSIGN_OR_RETURN(options.mode, ParseMode(absl::GetFlag(FLAGS_mode)));
  return options;
}

}  // namespace featx::cli
