#include "plugin/pipeline/rewrite.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/naming/tracer_presets.h"
#include "plugin/status.h"

namespace featx {

absl::string_view StageDescription(Stage stage) {
  switch (stage) {
    case Stage::kModule:
      return "the module only (no pass has run)";
    case Stage::kInlined:
      return "forward's graph inlined down to leaf calls";
    case Stage::kSpecialized:
      return "train and eval graphs";
    case Stage::kNamed:
      return "named train and eval graphs";
    case Stage::kChosen:
      return "train and eval graphs with chosen outputs";
    case Stage::kEmitted:
      return "train and eval graphs that emit their outputs";
    case Stage::kMerged:
      return "the merged forward";
  }
  return "an unknown stage";
}

std::vector<EmittedOutput> ModeRewrite::EmittedOutputs() const {
  std::vector<EmittedOutput> emitted_outputs;
  for (const ChosenOutput& out : outputs) emitted_outputs.push_back({out.chosen.output_name, out.value});
  return emitted_outputs;
}

void ModeRewrite::EmitChosen() {
  for (const ChosenOutput& out : outputs) emitted.push_back({out.chosen.output_name, out.chosen.node->name});
}

std::vector<ModeRewrite*> Rewrite::Modes() const {
  if (train == nullptr) return {};
  if (ModesShared()) return {train.get()};
  return {train.get(), eval.get()};
}

absl::StatusOr<Rewrite> Rewrite::Start(const torch::jit::Module& module, const ExtractorOptions& options) {
  Rewrite rewrite;
  rewrite.module = module;
  rewrite.options = options;
  if (!options.return_nodes.empty() || !options.train_return_nodes.empty() || !options.eval_return_nodes.empty()) {
    FEATX_ASSIGN_OR_RETURN(rewrite.choices,
                           ParseChoices(options.return_nodes, options.train_return_nodes, options.eval_return_nodes));
    if (options.mode == Mode::kTuple && rewrite.choices->train.size() != rewrite.choices->eval.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tuple mode needs as many train_return_nodes as eval_return_nodes (", rewrite.choices->train.size(), " and ",
          rewrite.choices->eval.size(), "): forward returns one tuple type in both modes"));
    }
  }
  FEATX_ASSIGN_OR_RETURN(const TracerOptions tracer, WithTracerPreset(module, options));
  FEATX_ASSIGN_OR_RETURN(rewrite.leaves, LeafModules::Create(module, tracer.leaf_modules));
  FEATX_ASSIGN_OR_RETURN(rewrite.leaf_functions, LeafFunctions::Create(module, tracer.leaf_functions));
  FEATX_ASSIGN_OR_RETURN(rewrite.concrete_args, ParseConcreteArgs(module, options.concrete_args));
  return rewrite;
}

}  // namespace featx
