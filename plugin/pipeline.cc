#include "plugin/pipeline.h"

#include "plugin/rewrite_steps.h"

namespace featx {

std::vector<std::string> NamingPipeline(const TracerOptions& options) {
  std::vector<std::string> passes = {kInlineNonLeaf, kFoldModuleAttributes, kSpecializeTraining, kNameNodes};
  if (!options.suppress_diff_warning) passes.push_back(kWarnGraphDifferences);
  return passes;
}

std::vector<std::string> LoadTimePipeline(const ExtractorOptions& options) {
  std::vector<std::string> passes = NamingPipeline({options.leaf_modules, options.suppress_diff_warning});
  passes.push_back(kChooseOutputs);
  passes.push_back(kProtectAliases);
  passes.push_back(kRestoreCalls);
  switch (options.mode) {
    case Mode::kTap:
      passes.push_back(kInsertTaps);
      break;
    case Mode::kDict:
      passes.push_back(kReturnDict);
      break;
    case Mode::kTuple:
      passes.push_back(kReturnTuple);
      break;
  }
  passes.push_back(kPrune);
  if (options.mode == Mode::kTap) passes.push_back(kBracketRequest);
  passes.push_back(kMergeTrainEval);
  return passes;
}

}  // namespace featx
