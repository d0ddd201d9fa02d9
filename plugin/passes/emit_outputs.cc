// featx.emit_outputs: make the chosen activations what forward returns.
//
// Dict mode (torchvision's create_feature_extractor): an empty dict first,
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
//
// Tuple mode (Triton's PyTorch backend, which rejects dicts): the model's own
// outputs flattened, then the chosen values, as one tuple.
//   %out = prim::TupleConstruct(%logits, %a, %b)
//   return (%out)
#include <torch/csrc/jit/jit_log.h>

#include "plugin/passes/passes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Appends the tensors of `value` (a Tensor, or tuples of them) to `flat`.
void Flatten(jit::Graph& graph, jit::Value* value, std::vector<jit::Value*>* flat) {
  if (value->type()->kind() != c10::TypeKind::TupleType) {
    flat->push_back(value);
    return;
  }
  at::ArrayRef<jit::Value*> items = value->node()->kind() == c10::prim::TupleConstruct
                                        ? value->node()->inputs()
                                        : graph.insertNode(graph.createTupleUnpack(value))->outputs();
  for (jit::Value* item : items) Flatten(graph, item, flat);
}

}  // namespace

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

void ReturnTuple(std::shared_ptr<jit::Graph>& graph, const std::vector<EmittedOutput>& outputs) {
  jit::WithInsertPoint guard(graph->return_node());
  std::vector<jit::Value*> flat;
  for (jit::Value* own : graph->outputs()) Flatten(*graph, own, &flat);
  for (const EmittedOutput& out : outputs) flat.push_back(out.value);
  jit::Node* tuple = graph->insertNode(graph->createTuple(flat));
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(tuple->output());
  GRAPH_DUMP("After featx ReturnTuple: ", graph);
}

}  // namespace featx
