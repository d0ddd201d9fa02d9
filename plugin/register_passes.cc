// Registers featx's passes when the library is loaded, in load-time order.
// Only registration here: the steps are in plugin/rewrite_steps.cc, the
// graph passes in plugin/passes/.
#include "plugin/pass_registry.h"
#include "plugin/rewrite_steps.h"

namespace featx {
namespace {

PassDefinition Pass(const char* name, Stage runs_at, Stage leaves_at, absl::Status (*step)(Rewrite&),
                    const char* summary, std::optional<Mode> only_mode = std::nullopt) {
  return {{name, summary, runs_at, leaves_at, only_mode}, step};
}

const PassRegistration kRegistrations[] = {
    PassRegistration(Pass(kInlineNonLeaf, Stage::kModule, Stage::kInlined, InlineNonLeafStep,
                          "copies forward's graph and inlines every call except leaf module calls")),
    PassRegistration(Pass(kFoldModuleAttributes, Stage::kInlined, Stage::kInlined, FoldModuleAttributesStep,
                          "replaces reads of plain module attributes with their values, as FX sees them")),
    PassRegistration(Pass(kSpecializeTraining, Stage::kInlined, Stage::kSpecialized, SpecializeTrainingStep,
                          "one graph per training mode: `training` becomes a constant, dead branches go")),
    PassRegistration(Pass(kNameNodes, Stage::kSpecialized, Stage::kNamed, NameNodesStep,
                          "torchvision's NodePathTracer names for each mode's nodes")),
    PassRegistration(Pass(kWarnGraphDifferences, Stage::kNamed, Stage::kNamed, WarnGraphDifferencesStep,
                          "torchvision's warning, through the host's logging, when train and eval names differ")),
    PassRegistration(Pass(kChooseOutputs, Stage::kNamed, Stage::kChosen, ChooseOutputsStep,
                          "resolves return_nodes to nodes in each mode (prefixes, output names, did-you-mean)")),
    PassRegistration(Pass(kProtectAliases, Stage::kChosen, Stage::kChosen, ProtectAliasesStep,
                          "keeps a chosen value as it was at its node when a later op writes it in place")),
    PassRegistration(Pass(kRestoreCalls, Stage::kChosen, Stage::kChosen, RestoreCallsStep,
                          "puts back as module calls the inlined calls that hold no chosen node")),
    PassRegistration(Pass(kInsertTaps, Stage::kChosen, Stage::kEmitted, InsertTapsStep,
                          "routes each chosen value through featx::tap under its output name", Mode::kTap)),
    PassRegistration(Pass(kReturnDict, Stage::kChosen, Stage::kEmitted, ReturnDictStep,
                          "makes forward return Dict[str, Tensor] of the chosen values", Mode::kDict)),
    PassRegistration(Pass(kReturnTuple, Stage::kChosen, Stage::kEmitted, ReturnTupleStep,
                          "makes forward return its own outputs, then the chosen values, as one flat tuple",
                          Mode::kTuple)),
    PassRegistration(Pass(kPrune, Stage::kEmitted, Stage::kEmitted, PruneStep,
                          "removes what the outputs do not need (in dict mode, unused module calls too)")),
    PassRegistration(Pass(kBracketRequest, Stage::kEmitted, Stage::kEmitted, BracketRequestStep,
                          "brackets forward with featx::request_begin/end, for hosts that open no capture",
                          Mode::kTap)),
    PassRegistration(Pass(kMergeTrainEval, Stage::kEmitted, Stage::kMerged, MergeTrainEvalStep,
                          "one forward: the train graph while training, the eval graph otherwise")),
};

}  // namespace
}  // namespace featx
