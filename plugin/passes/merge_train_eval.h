// featx.merge_train_eval: the last pass; one forward that runs the train
// graph while training and the eval graph otherwise.
//
//   std::shared_ptr<Graph> forward = MergeTrainEval(train, eval);
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// One graph that runs `train` when the module's `training` is true and `eval`
// otherwise. Both take the same inputs (the module first) and return one
// value.
std::shared_ptr<torch::jit::Graph> MergeTrainEval(const std::shared_ptr<torch::jit::Graph>& train,
                                                  const std::shared_ptr<torch::jit::Graph>& eval);

}  // namespace featx
