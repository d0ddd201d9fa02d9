// Each registered featx pass as a step of a Rewrite (plugin/rewrite.h): which
// of the rewrite's graphs it runs on and what it records. The graph passes
// themselves live in plugin/passes/, one per file; these steps only feed
// them. plugin/register_passes.cc registers each step under its name.
//
//   featx::Rewrite rewrite = *featx::Rewrite::Start(module, options);
//   FEATX_RETURN_IF_ERROR(featx::RunPass(featx::kInlineNonLeaf, rewrite));
#pragma once

#include "absl/status/status.h"
#include "plugin/rewrite.h"

namespace featx {

// The stable names, in load-time order.
inline constexpr char kInlineNonLeaf[] = "featx.inline_non_leaf";
inline constexpr char kFoldModuleAttributes[] = "featx.fold_module_attributes";
inline constexpr char kSpecializeTraining[] = "featx.specialize_training";
inline constexpr char kNameNodes[] = "featx.name_nodes";
inline constexpr char kWarnGraphDifferences[] = "featx.warn_graph_differences";
inline constexpr char kChooseOutputs[] = "featx.choose_outputs";
inline constexpr char kProtectAliases[] = "featx.protect_aliases";
inline constexpr char kRestoreCalls[] = "featx.restore_calls";
inline constexpr char kInsertTaps[] = "featx.insert_taps";
inline constexpr char kReturnDict[] = "featx.return_dict";
inline constexpr char kReturnTuple[] = "featx.return_tuple";
inline constexpr char kPrune[] = "featx.prune";
inline constexpr char kBracketRequest[] = "featx.bracket_request";
inline constexpr char kMergeTrainEval[] = "featx.merge_train_eval";

// kModule -> kInlined: copies forward's graph and inlines non-leaf calls.
[[nodiscard]] absl::Status InlineNonLeafStep(Rewrite& rewrite);
// kInlined: folds plain module attributes into constants.
[[nodiscard]] absl::Status FoldModuleAttributesStep(Rewrite& rewrite);
// kInlined -> kSpecialized: one graph per training mode (one shared graph
// when the model reads `training` only inside leaf modules).
[[nodiscard]] absl::Status SpecializeTrainingStep(Rewrite& rewrite);
// kSpecialized -> kNamed.
[[nodiscard]] absl::Status NameNodesStep(Rewrite& rewrite);
// kNamed: torchvision's warning when train and eval names differ.
[[nodiscard]] absl::Status WarnGraphDifferencesStep(Rewrite& rewrite);
// kNamed -> kChosen: resolves return_nodes in each mode and checks that each
// mode can emit its nodes.
[[nodiscard]] absl::Status ChooseOutputsStep(Rewrite& rewrite);
// kChosen: a chosen value that is overwritten later is emitted as it was at
// its node (a clone in dict and tuple mode, a copying tap in tap mode).
[[nodiscard]] absl::Status ProtectAliasesStep(Rewrite& rewrite);
// kChosen: puts back as module calls the inlined calls that hold no chosen
// node (when featx.inline_non_leaf knew this pass would run: RunPasses).
[[nodiscard]] absl::Status RestoreCallsStep(Rewrite& rewrite);
// kChosen -> kEmitted, one per mode.
[[nodiscard]] absl::Status InsertTapsStep(Rewrite& rewrite);
[[nodiscard]] absl::Status ReturnDictStep(Rewrite& rewrite);
[[nodiscard]] absl::Status ReturnTupleStep(Rewrite& rewrite);
// kEmitted: removes what the outputs do not need.
[[nodiscard]] absl::Status PruneStep(Rewrite& rewrite);
// kEmitted, tap mode: featx::request_begin/end around the forward.
[[nodiscard]] absl::Status BracketRequestStep(Rewrite& rewrite);
// kEmitted -> kMerged: one forward, the train graph when training.
[[nodiscard]] absl::Status MergeTrainEvalStep(Rewrite& rewrite);

}  // namespace featx
