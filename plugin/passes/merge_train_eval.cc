// featx.merge_train_eval: one forward with torchvision's dual behaviour, the
// train graph when the module is training and the eval graph otherwise
// (DualGraphModule).
//
//   graph(%self, %x):
//     %training : bool = prim::GetAttr[name="training"](%self)
//     %out = prim::If(%training)
//       block0(): <train graph> -> (%train_out)
//       block1(): <eval graph>  -> (%eval_out)
//     return (%out)
#include "plugin/passes/merge_train_eval.h"

#include <torch/csrc/jit/jit_log.h>
#include "absl/strings/str_cat.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

void InlineInto(jit::Block* block, jit::Graph& callee, at::ArrayRef<jit::Value*> inputs) {
  jit::WithInsertPoint guard(block);
  for (jit::Value* out : jit::insertGraph(*block->owningGraph(), callee, inputs)) block->registerOutput(out);
}

}  // namespace

std::shared_ptr<jit::Graph> MergeTrainEval(const std::shared_ptr<jit::Graph>& train,
                                           const std::shared_ptr<jit::Graph>& eval) {
  TORCH_INTERNAL_ASSERT(train->inputs().size() == eval->inputs().size());
  TORCH_INTERNAL_ASSERT(train->outputs().size() == 1 && eval->outputs().size() == 1);
  auto merged = std::make_shared<jit::Graph>();
  for (const jit::Value* input : train->inputs()) {
    merged->addInput(input->debugNameBase())->setType(input->type());
  }
  jit::Value* self = merged->inputs()[0];
  jit::WithInsertPoint guard(merged->block());
  jit::Value* training = merged->insertNode(merged->createGetAttr(self, "training"))->output();
  jit::Node* branch = merged->insertNode(merged->create(c10::prim::If, {training}, 0));
  InlineInto(branch->addBlock(), *train, merged->inputs());
  InlineInto(branch->addBlock(), *eval, merged->inputs());
  c10::TypePtr out_type = train->outputs()[0]->type();
  auto unified = c10::unifyTypes(out_type, eval->outputs()[0]->type());
  branch->addOutput()->setType(unified ? *unified : out_type);
  merged->registerOutput(branch->output());
  GRAPH_DUMP("After featx MergeTrainEval: ", merged);
  return merged;
}

namespace {

// Entries of `part.emitted` that are the model's own outputs (tuple mode).
size_t OwnOutputs(const ModeRewrite& part) { return part.emitted.size() - part.outputs.size(); }

absl::Status MergeTrainEvalStep(Rewrite& rewrite) {
  const ModeRewrite& train = *rewrite.train;
  const ModeRewrite& eval = *rewrite.eval;
  if (rewrite.options.mode == Mode::kTuple && OwnOutputs(train) != OwnOutputs(eval)) {
    return absl::InvalidArgumentError(absl::StrCat("tuple mode: the model's own outputs differ between train mode (",
                                                   OwnOutputs(train), " tensors) and eval mode (", OwnOutputs(eval),
                                                   " tensors)"));
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

const PassRegistration kRegistration({{"featx.merge_train_eval",
                                       "one forward: the train graph while training, the eval graph otherwise",
                                       Stage::kEmitted, Stage::kMerged},
                                      MergeTrainEvalStep});

}  // namespace

}  // namespace featx
