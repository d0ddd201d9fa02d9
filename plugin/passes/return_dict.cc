// featx.return_dict (torchvision's create_feature_extractor): an empty dict first,
// each chosen value stored right where it is made, the dict returned.
//   %out : Dict(str, Tensor) = prim::DictConstruct()
//   ...
//   %a = prim::CallMethod[name="forward"](%layer1, %x)
//   = aten::_set_item(%out, "layer1", %a)
//   ...
//   return (%out)
// Storing at the node, not at the end, is what lets a value inside a
// prim::If block be returned (its key is present when the branch ran) and a
// value inside a prim::Loop (the last iteration's value). The model's own
// outputs are dropped; Prune then removes what only they needed.
#include "plugin/passes/return_dict.h"

#include <torch/csrc/jit/jit_log.h>

#include "plugin/pipeline/pass_registry.h"

namespace featx {

namespace jit = ::torch::jit;

void ReturnDict(std::shared_ptr<jit::Graph>& graph, const std::vector<EmittedOutput>& outputs) {
  jit::Node* dict = graph->createDict(c10::StringType::get(), c10::TensorType::get(), {}, {});
  dict->insertBefore(graph->block()->nodes().front());
  // Each store goes right after its value, or after the previous store when
  // that is later in the same block: the dict keeps graph order.
  jit::Node* previous = dict;
  for (const EmittedOutput& out : outputs) {
    jit::Node* after = out.value->node()->kind() == c10::prim::Param ? dict : out.value->node();
    if (previous->owningBlock() == after->owningBlock() && previous->isAfter(after)) after = previous;
    jit::WithInsertPoint guard(after->next());
    jit::Value* key = graph->insertConstant(out.name);
    previous = graph->insertNode(graph->create(c10::aten::_set_item, {dict->output(), key, out.value}, 0));
  }
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(dict->output());
  GRAPH_DUMP("After featx ReturnDict: ", graph);
}

namespace {

absl::Status ReturnDictStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) {
    ReturnDict(part.named.graph, part.EmittedOutputs());
    part.EmitChosen();
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration({{"featx.return_dict",
                                       "makes forward return Dict[str, Tensor] of the chosen values", Stage::kChosen,
                                       Stage::kEmitted, Mode::kDict},
                                      ReturnDictStep});

}  // namespace

}  // namespace featx
