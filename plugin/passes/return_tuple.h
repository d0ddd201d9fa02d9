// featx.return_tuple (tuple mode, for Triton's PyTorch backend, which rejects
// dicts): forward returns its own outputs, then the chosen values.
//
//   ReturnTuple(graph, {{"feat1", value}});  // (logits, feat1)
#pragma once

#include <memory>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/naming/named_graph.h"

namespace featx {

// Makes the graph return one flat tuple: its own outputs (nested tuples
// unpacked into their tensors), then `outputs`, which must be Tensors
// visible at the graph's end.
void ReturnTuple(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<EmittedOutput>& outputs);

}  // namespace featx
