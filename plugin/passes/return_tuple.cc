// featx.return_tuple (Triton's PyTorch backend, which rejects dicts): the model's own
// outputs flattened, then the chosen values, as one tuple.
//   %out = prim::TupleConstruct(%logits, %a, %b)
//   return (%out)
#include "plugin/passes/return_tuple.h"

#include <string>
#include <vector>

#include <torch/csrc/jit/jit_log.h>

#include "absl/strings/str_cat.h"
#include "plugin/pipeline/pass_registry.h"

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

namespace {

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

absl::Status ReturnTupleStep(Rewrite& rewrite) {
  return rewrite.ForEachMode([&](ModeRewrite& part) -> absl::Status {
    FEATX_RETURN_IF_ERROR(AppendFlatOutputNames(part.named.graph->outputs()[0]->type(), "output", &part.emitted));
    ReturnTuple(part.named.graph, part.EmittedOutputs());
    part.EmitChosen();
    return absl::OkStatus();
  });
}

const PassRegistration kRegistration(
    {{"featx.return_tuple", "makes forward return its own outputs, then the chosen values, as one flat tuple",
      Stage::kChosen, Stage::kEmitted, Mode::kTuple},
     ReturnTupleStep});

}  // namespace

}  // namespace featx
