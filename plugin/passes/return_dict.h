// featx.return_dict (dict mode, torchvision's create_feature_extractor):
// forward returns Dict[str, Tensor] of the chosen values.
//
//   ReturnDict(graph, {{"feat1", value}});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "plugin/naming/named_graph.h"

namespace featx {

// Makes the graph return a Dict[str, Tensor] of `outputs`, in place of its
// own outputs. Each value is stored right after it is made, so values inside
// prim::If / prim::Loop blocks are allowed (present when their block ran,
// the last iteration's in a loop). `outputs` must be in graph order; the
// dict keeps that order.
void ReturnDict(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<EmittedOutput>& outputs);

}  // namespace featx
