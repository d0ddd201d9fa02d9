#include "tools/cli/rewrite_options.h"

#include "plugin/host/flags.h"
#include "plugin/status.h"

namespace featx::cli {

absl::StatusOr<ExtractorOptions> ExtractorOptionsFromFlags() {
  FEATX_ASSIGN_OR_RETURN(const Config config, ConfigFromProcessFlags());
  return config.extractor;
}

}  // namespace featx::cli
