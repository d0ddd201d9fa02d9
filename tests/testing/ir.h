// Graphs written as TorchScript IR, for graph-in, graph-out pass tests.
//
//   std::shared_ptr<torch::jit::Graph> graph = featx::testing::ParseGraph(R"IR(
//     graph(%x : Tensor):
//       return (%x))IR");
#pragma once

#include <memory>
#include <string>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/irparser.h>

namespace featx::testing {

inline std::shared_ptr<torch::jit::Graph> ParseGraph(const std::string& ir) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  return graph;
}

}  // namespace featx::testing
