// featx.emit_outputs: make the chosen activations what forward returns.
//
// Dict mode (torchvision's create_feature_extractor):
//   %out : Dict(str, Tensor) = prim::DictConstruct("layer1", %a, "fc", %b)
//   return (%out)
// The model's own outputs are dropped; Prune then removes what only they
// needed.
#include <torch/csrc/jit/jit_log.h>

#include "plugin/passes/passes.h"

namespace featx {

namespace jit = ::torch::jit;

void ReturnDict(std::shared_ptr<jit::Graph>& graph, const std::vector<EmittedOutput>& outputs) {
  jit::WithInsertPoint guard(graph->return_node());
  std::vector<jit::Value*> keys;
  std::vector<jit::Value*> values;
  for (const EmittedOutput& out : outputs) {
    keys.push_back(graph->insertConstant(out.name));
    values.push_back(out.value);
  }
  jit::Node* dict = graph->insertNode(graph->createDict(c10::StringType::get(), c10::TensorType::get(), keys, values));
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(dict->output());
  GRAPH_DUMP("After featx ReturnDict: ", graph);
}

}  // namespace featx
