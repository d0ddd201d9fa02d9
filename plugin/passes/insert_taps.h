// featx.insert_taps (tap mode): chosen values pass through featx::tap.
//
//   std::vector<Value*> tapped = InsertTaps(graph, {{value, "layer1"}});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

// A value to observe and the tag it is recorded under.
struct TapPoint {
  torch::jit::Value* value;
  std::string tag;
  // Record a copy (featx::tap.copy): the value is overwritten later.
  bool copy = false;
};

// Routes each value through `featx::tap(value, tag)`, inserted right after
// the value is made; every later use reads the tap's output (for the output
// of an in-place op that nothing reads, the uses of the tensor it wrote).
// Values must be Tensors. Returns each tap's output; one with no uses is dead
// code and would be removed, so callers check.
std::vector<torch::jit::Value*> InsertTaps(std::shared_ptr<torch::jit::Graph>& graph,
                                           const std::vector<TapPoint>& taps);

}  // namespace featx
