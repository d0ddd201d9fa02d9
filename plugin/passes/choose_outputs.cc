// featx.choose_outputs: resolves return_nodes to named nodes in each mode
// (prefixes, output names, did-you-mean: plugin/naming/return_nodes.h) and
// checks that the mode can emit each one, before any graph is changed.
#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "plugin/analysis/jit_values.h"
#include "plugin/passes/name_nodes.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// A parameter read FX lists as a tensor (`conv2.conv2_bias` of a conv it
// traces through) is an Optional[Tensor] attribute in TorchScript. Reads of
// one that holds None are constants by now (featx.fold_module_attributes),
// so this one holds a tensor: emit it cast to one, which the model reads from
// then on (so a tap on it is on the model's path).
jit::Value* AsTensorIfParameter(const NamedNode& n) {
  const auto optional = n.value->type()->cast<c10::OptionalType>();
  if (n.node == nullptr || n.node->kind() != c10::prim::GetAttr || optional == nullptr ||
      !optional->getElementType()->isSubtypeOf(*c10::TensorType::get())) {
    return n.value;
  }
  jit::WithInsertPoint guard(FirstUseSite(n.value));
  jit::Value* tensor = n.node->owningGraph()->insertUncheckedCast(n.value, optional->getElementType());
  n.value->replaceAllUsesAfterNodeWith(tensor->node(), tensor);
  return tensor;
}

// torch.jit.trace records a module that returns a tensor it was given
// (nn.Identity, torchvision's StochasticDepth in eval) as a call with no
// value, and callers read the tensor from where it was made. The message
// names the likeliest maker: the last tensor named before the call.
std::string TracedAwayValue(const ModeRewrite& part, const NamedNode& n) {
  std::string maker;
  for (const NamedNode& earlier : part.named.nodes) {
    if (&earlier == &n) break;
    if (earlier.value != nullptr && IsTensor(earlier.value)) maker = earlier.name;
  }
  return absl::StrCat("node '", n.name, "' holds no value: the model was made by torch.jit.trace, which records a ",
                      "module that returns a tensor it was given (nn.Identity, StochasticDepth in eval) as a call ",
                      "without its value; the tensor is an earlier node's",
                      maker.empty() ? "" : absl::StrCat(", most likely '", maker, "' (the last one made before it)"),
                      ": choose that node, or script the model (torch.jit.script) to keep '", n.name, "'");
}

// The value to emit for a chosen node, if the mode can emit it.
absl::StatusOr<jit::Value*> EmittableValue(const ModeRewrite& part, const NamedNode& n, Mode mode) {
  if (n.value == nullptr && n.node != nullptr && n.node->outputs().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", n.name, "' makes no value (an assertion); choose a node that makes one tensor"));
  }
  if (n.value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", n.name, "' has several outputs; choose a node that makes one tensor"));
  }
  jit::Value* value = AsTensorIfParameter(n);
  // A traced call without a value passes only the module.
  if (n.node != nullptr && n.node->kind() == c10::prim::CallMethod && n.node->inputs().size() == 1 &&
      value->type() == c10::NoneType::get()) {
    return absl::InvalidArgumentError(TracedAwayValue(part, n));
  }
  if (!IsTensor(value)) {
    return absl::InvalidArgumentError(absl::StrCat("node '", n.name, "' makes a ", n.value->type()->annotation_str(),
                                                   ", not a Tensor; only tensors can be extracted"));
  }
  if (mode == Mode::kTuple && n.node != nullptr && n.node->owningBlock() != part.named.graph->block()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tuple mode cannot return node '", n.name, "': it is inside control flow (",
        n.node->owningBlock()->owningNode()->kind().toQualString(),
        "), so it does not exist on every run and a tuple has a fixed set of slots; choose it in dict mode "
        "(its key is present when the branch runs) or tap mode"));
  }
  return value;
}

absl::Status ChooseOutputsStep(Rewrite& rewrite) {
  if (!rewrite.choices.has_value()) {
    // No choice at Start: let the parser say what is missing.
    const ExtractorOptions& o = rewrite.options;
    FEATX_ASSIGN_OR_RETURN(rewrite.choices, ParseChoices(o.return_nodes, o.train_return_nodes, o.eval_return_nodes));
  }
  if (rewrite.ModesShared() && !rewrite.choices->Same()) {
    // One graph, two choices: the eval choice gets its own copy.
    FEATX_RETURN_IF_ERROR(TorchCall([&] {
      auto eval = std::make_shared<ModeRewrite>();
      eval->training = false;
      eval->named.graph = rewrite.train->named.graph->copy();
      eval->named.nodes = NameNodes(eval->named.graph, rewrite.input_names);
      rewrite.eval = eval;
    }));
  }
  for (ModeRewrite* part : rewrite.Modes()) {
    const std::vector<ReturnNode>& wanted =
        part == rewrite.eval.get() && !rewrite.ModesShared() ? rewrite.choices->eval : rewrite.choices->train;
    FEATX_ASSIGN_OR_RETURN(std::vector<ChosenNode> chosen,
                           ResolveReturnNodes(wanted, part->named.nodes, part->TrainingName()));
    part->outputs.clear();
    for (ChosenNode& c : chosen) {
      FEATX_ASSIGN_OR_RETURN(jit::Value * value, EmittableValue(*part, *c.node, rewrite.options.mode));
      part->outputs.push_back({std::move(c), value});
    }
  }
  return absl::OkStatus();
}

const PassRegistration kRegistration(
    {{"featx.choose_outputs", "resolves return_nodes to nodes in each mode (prefixes, output names, did-you-mean)",
      Stage::kNamed, Stage::kChosen},
     ChooseOutputsStep});

}  // namespace
}  // namespace featx
