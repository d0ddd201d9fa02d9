#include "plugin/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::vector<std::string>, featx_leaf_modules, {},
          "Comma-separated module classes to keep as single nodes besides torch.nn's and torchvision.ops' "
          "(bare `MyBlock` or qualified `mymodels.MyBlock`); each must occur in the model.");
ABSL_FLAG(bool, featx_suppress_diff_warning, false,
          "Do not warn when the model's train-mode and eval-mode node names differ.");

namespace featx {

TracerOptions TracerOptionsFromFlags() {
  TracerOptions options;
  options.leaf_modules = absl::GetFlag(FLAGS_featx_leaf_modules);
  options.suppress_diff_warning = absl::GetFlag(FLAGS_featx_suppress_diff_warning);
  return options;
}

}  // namespace featx
