#include "plugin/rewrite_steps.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/graph_diff_warning.h"
#include "plugin/passes/passes.h"
#include "plugin/status.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool IsTensor(const jit::Value* v) { return v->type()->isSubtypeOf(*c10::TensorType::get()); }

// Runs `fn` on each mode's part once (once in all while the modes share it).
template <typename Fn>
absl::Status ForEachMode(const Rewrite& rewrite, Fn&& fn) {
  for (ModeRewrite* mode : rewrite.Modes()) {
    FEATX_RETURN_IF_ERROR(TorchCall([&]() -> absl::Status { return fn(*mode); }));
  }
  return absl::OkStatus();
}

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
  jit::WithInsertPoint guard(n.node->next());
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

// The chosen nodes' values, if the mode can emit each of them.
absl::StatusOr<std::vector<jit::Value*>> ChosenValues(const ModeRewrite& part, Mode mode) {
  std::vector<jit::Value*> values;
  for (const ChosenNode& c : part.chosen) {
    const NamedNode& n = *c.node;
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
    values.push_back(value);
  }
  return values;
}

// Names of the model's own outputs as tuple mode flattens them: `output`
// for a tensor, `output.0`, `output.1.0`, ... inside tuples.
absl::Status AppendFlatOutputNames(const c10::TypePtr& type, const std::string& name,
                                   std::vector<ManifestEntry>* slots) {
  if (auto tuple = type->cast<c10::TupleType>()) {
    for (size_t i = 0; i < tuple->elements().size(); ++i) {
      FEATX_RETURN_IF_ERROR(AppendFlatOutputNames(tuple->elements()[i], absl::StrCat(name, ".", i), slots));
    }
    return absl::OkStatus();
  }
  if (!type->isSubtypeOf(*c10::TensorType::get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("tuple mode returns the model's own outputs as tensors, but its output '", name, "' is a ",
                     type->annotation_str(), "; use dict mode (the chosen nodes only) or tap mode"));
  }
  slots->push_back({name, "output"});
  return absl::OkStatus();
}

std::vector<EmittedOutput> Outputs(const ModeRewrite& part) {
  std::vector<EmittedOutput> outputs;
  for (size_t i = 0; i < part.chosen.size(); ++i) outputs.push_back({part.chosen[i].output_name, part.values[i]});
  return outputs;
}

void AppendChosen(ModeRewrite& part) {
  for (const ChosenNode& c : part.chosen) part.emitted.push_back({c.output_name, c.node->name});
}

}  // namespace

absl::Status InlineNonLeafStep(Rewrite& rewrite) {
  if (!rewrite.module.find_method("forward")) {
    return absl::InvalidArgumentError(absl::StrCat("module of class ", PythonClassName(*rewrite.module.type()),
                                                   " has no forward method; featx names the nodes of forward"));
  }
  return TorchCall([&] {
    jit::Method forward = rewrite.module.get_method("forward");
    rewrite.input_names.clear();
    for (const c10::Argument& arg : forward.function().getSchema().arguments()) {
      rewrite.input_names.push_back(arg.name());
    }
    rewrite.input_names.erase(rewrite.input_names.begin());  // self
    // InlineNonLeaf builds a new graph: forward's own is only read.
    rewrite.inlined = forward.graph();
    const std::vector<std::string>& planned = rewrite.passes_planned;
    const bool restore = std::find(planned.begin(), planned.end(), kRestoreCalls) != planned.end();
    InlineNonLeaf(rewrite.inlined, rewrite.leaves, &rewrite.module, /*mark_calls=*/restore);
  });
}

absl::Status FoldModuleAttributesStep(Rewrite& rewrite) {
  return TorchCall([&] { FoldModuleAttributes(rewrite.inlined, rewrite.module); });
}

absl::Status SpecializeTrainingStep(Rewrite& rewrite) {
  return TorchCall([&] {
    // Most models never read `training` outside their leaves (resnet50 does
    // not): then both modes are one graph, specialized and named once.
    const bool same_in_both_modes = !ReadsTraining(rewrite.inlined);
    auto train = std::make_shared<ModeRewrite>();
    train->training = "train";
    train->named.graph = same_in_both_modes ? std::move(rewrite.inlined) : rewrite.inlined->copy();
    SpecializeTraining(train->named.graph, /*training=*/true);
    rewrite.train = train;
    if (same_in_both_modes) {
      rewrite.eval = train;
    } else {
      auto eval = std::make_shared<ModeRewrite>();
      eval->training = "eval";
      eval->named.graph = std::move(rewrite.inlined);
      SpecializeTraining(eval->named.graph, /*training=*/false);
      rewrite.eval = eval;
    }
    rewrite.inlined.reset();
  });
}

absl::Status NameNodesStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    part.named.nodes = NameNodes(part.named.graph, rewrite.input_names);
    return absl::OkStatus();
  });
}

absl::Status WarnGraphDifferencesStep(Rewrite& rewrite) {
  if (rewrite.ModesShared()) return absl::OkStatus();  // one graph: nothing differs
  WarnIfModesDiffer(rewrite.train->named.Names(), rewrite.eval->named.Names());
  return absl::OkStatus();
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
      eval->training = "eval";
      eval->named.graph = rewrite.train->named.graph->copy();
      eval->named.nodes = NameNodes(eval->named.graph, rewrite.input_names);
      rewrite.eval = eval;
    }));
  }
  for (ModeRewrite* part : rewrite.Modes()) {
    const std::vector<ReturnNode>& wanted =
        part == rewrite.eval.get() && !rewrite.ModesShared() ? rewrite.choices->eval : rewrite.choices->train;
    FEATX_ASSIGN_OR_RETURN(part->chosen, ResolveReturnNodes(wanted, part->named.nodes, part->training));
    FEATX_ASSIGN_OR_RETURN(part->values, ChosenValues(*part, rewrite.options.mode));
    part->tap_copies.assign(part->values.size(), false);
  }
  return absl::OkStatus();
}

absl::Status RestoreCallsStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    std::vector<const jit::Node*> keep;
    for (size_t i = 0; i < part.chosen.size(); ++i) {
      if (part.chosen[i].node->node != nullptr) keep.push_back(part.chosen[i].node->node);
      keep.push_back(part.values[i]->node());
    }
    RestoreCalls(part.named.graph, keep);
    // Only the chosen nodes are sure to be in the graph still: the others
    // may be inside a call again. Their names stay.
    absl::flat_hash_set<const NamedNode*> chosen;
    for (const ChosenNode& c : part.chosen) chosen.insert(c.node);
    for (NamedNode& n : part.named.nodes) {
      if (chosen.contains(&n)) continue;
      n.node = nullptr;
      n.value = nullptr;
    }
    return absl::OkStatus();
  });
}

absl::Status ProtectAliasesStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    if (rewrite.options.mode == Mode::kTap) {
      // A tap records a copy only while a capture is open: nothing is cloned
      // for requests nobody captures.
      part.tap_copies = OverwrittenLater(part.named.graph, part.values, rewrite.summaries.get());
    } else {
      part.values = ProtectAliases(part.named.graph, part.values, rewrite.summaries.get());
    }
    return absl::OkStatus();
  });
}

absl::Status InsertTapsStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) -> absl::Status {
    std::vector<TapPoint> taps;
    for (size_t i = 0; i < part.chosen.size(); ++i) {
      taps.push_back({part.values[i], part.chosen[i].output_name, part.tap_copies[i]});
    }
    const std::vector<jit::Value*> tapped = InsertTaps(part.named.graph, taps);
    for (size_t i = 0; i < tapped.size(); ++i) {
      if (!tapped[i]->hasUses()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tap mode cannot observe node '", part.chosen[i].node->name,
            "': nothing in the model reads its value, so a tap on it would be removed as dead code; use dict mode"));
      }
    }
    AppendChosen(part);
    return absl::OkStatus();
  });
}

absl::Status ReturnDictStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    ReturnDict(part.named.graph, Outputs(part));
    AppendChosen(part);
    return absl::OkStatus();
  });
}

absl::Status ReturnTupleStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) -> absl::Status {
    FEATX_RETURN_IF_ERROR(AppendFlatOutputNames(part.named.graph->outputs()[0]->type(), "output", &part.emitted));
    ReturnTuple(part.named.graph, Outputs(part));
    AppendChosen(part);
    return absl::OkStatus();
  });
}

absl::Status PruneStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    if (rewrite.options.mode == Mode::kDict) {
      // The model's own output is gone: so are the module calls only it
      // needed, as FX drops them.
      Prune(part.named.graph, rewrite.summaries.get());
    } else {
      // The model's output stays, and with it every call it makes.
      jit::EliminateDeadCode(part.named.graph);
    }
    return absl::OkStatus();
  });
}

absl::Status BracketRequestStep(Rewrite& rewrite) {
  return ForEachMode(rewrite, [&](ModeRewrite& part) {
    BracketRequest(part.named.graph, rewrite.options.request_sink);
    return absl::OkStatus();
  });
}

absl::Status MergeTrainEvalStep(Rewrite& rewrite) {
  const ModeRewrite& train = *rewrite.train;
  const ModeRewrite& eval = *rewrite.eval;
  if (rewrite.options.mode == Mode::kTuple &&
      train.emitted.size() - train.chosen.size() != eval.emitted.size() - eval.chosen.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tuple mode: the model's own outputs differ between train mode (", train.emitted.size() - train.chosen.size(),
        " tensors) and eval mode (", eval.emitted.size() - eval.chosen.size(), " tensors)"));
  }
  if (rewrite.ModesShared()) {
    rewrite.forward = train.named.graph;
  } else {
    FEATX_ASSIGN_OR_RETURN(rewrite.forward,
                           TorchCall([&] { return MergeTrainEval(train.named.graph, eval.named.graph); }));
  }
  rewrite.manifest = OutputManifest{rewrite.options.mode, train.emitted, eval.emitted};
  return absl::OkStatus();
}

}  // namespace featx
