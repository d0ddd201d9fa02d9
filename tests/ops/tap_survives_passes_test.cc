// A tap must stay in the graph through the passes a serving runtime runs on a
// loaded model (dead-code elimination, constant propagation, freezing), or its
// activation silently disappears from the capture.
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>

#include "ops/capture.h"
#include "tests/testing/script_resolver.h"

namespace {

namespace jit = ::torch::jit;

// conv -> tap -> relu -> tap, the shape InsertTaps produces: every tap's output
// feeds the rest of the graph.
jit::Module TappedConvNet() {
  jit::Module m("__torch__.featx_test.TappedConvNet");
  torch::manual_seed(0);
  m.register_parameter("weight", torch::randn({4, 3, 3, 3}), false);
  m.register_parameter("scale", torch::randn({4, 1, 1}), false);
  m.define(R"JIT(
    def forward(self, x):
        y = torch.conv2d(x, self.weight)
        y = featx.tap(y, "conv")
        z = torch.relu(y) * self.scale
        return featx.tap(z, "scaled")
  )JIT",
           featx::testing::ScriptResolver());
  m.eval();
  return m;
}

// `weight` is passed in because freezing folds it out of the module.
void ExpectCapturesBothTags(jit::Module& m, const at::Tensor& weight) {
  at::Tensor x = torch::randn({1, 3, 8, 8});
  featx::Capture capture;
  at::Tensor out = m.forward({x}).toTensor();
  const featx::Activations& acts = capture.activations();
  ASSERT_EQ(acts.size(), 2);
  EXPECT_TRUE(torch::allclose(acts.at("conv"), torch::conv2d(x, weight)));
  EXPECT_TRUE(acts.at("scaled").is_same(out));
}

TEST(TapSurvivesPasses, DeadCodeElimination) {
  jit::Module m = TappedConvNet();
  auto graph = m.get_method("forward").graph();
  jit::EliminateDeadCode(graph);
  jit::testing::FileCheck().check("featx::tap")->check("featx::tap")->run(*graph);
  ExpectCapturesBothTags(m, m.attr("weight").toTensor());
}

TEST(TapSurvivesPasses, ConstantPropagation) {
  jit::Module m = TappedConvNet();
  auto graph = m.get_method("forward").graph();
  jit::ConstantPropagation(graph);
  jit::testing::FileCheck().check_count("featx::tap", 2, /*exactly=*/true)->run(*graph);
  ExpectCapturesBothTags(m, m.attr("weight").toTensor());
}

TEST(TapSurvivesPasses, FreezeAndItsOptimizations) {
  jit::Module m = TappedConvNet();
  jit::Module frozen = jit::freeze(m);
  auto graph = frozen.get_method("forward").graph();
  jit::testing::FileCheck().check("aten::conv2d")->check("featx::tap")->check("featx::tap")->run(*graph);
  ExpectCapturesBothTags(frozen, m.attr("weight").toTensor());
  // Freezing really ran: the weight is now a constant, not an attribute.
  EXPECT_FALSE(frozen.hasattr("weight"));
}

TEST(TapSurvivesPasses, SaveAndLoad) {
  jit::Module m = TappedConvNet();
  std::stringstream archive;
  m.save(archive);
  jit::Module loaded = jit::load(archive);
  ExpectCapturesBothTags(loaded, m.attr("weight").toTensor());
}

// The contract InsertTaps relies on: a tap is a pure identity to the JIT, so a
// tap whose output nothing uses is dead code, as it would be to the graph
// executor's own optimization at the first request. Taps must therefore be
// inserted on the path of the values they observe.
TEST(TapSurvivesPasses, TapWithUnusedOutputIsDeadCode) {
  auto graph = std::make_shared<jit::Graph>();
  jit::parseIR(R"IR(
    graph(%x : Tensor):
      %tag : str = prim::Constant[value="dropped"]()
      %t : Tensor = featx::tap(%x, %tag)
      %y : Tensor = aten::relu(%x)
      return (%y))IR",
               graph.get());
  jit::EliminateDeadCode(graph);
  jit::testing::FileCheck().check_not("featx::tap")->run(*graph);
}

}  // namespace
