// featx::tap as the dispatcher, the JIT and alias analysis see it. This target
// links statically (see BUILD.bazel), so it fails if the op library loses
// `alwayslink` and its registration is dropped by the linker.
#include <memory>
#include <string>

#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/script.h>

#include "ops/capture.h"

namespace {

namespace jit = ::torch::jit;

TEST(TapOp, IsRegisteredWithItsAliasingSchema) {
  auto handle = c10::Dispatcher::singleton().findSchema({"featx::tap", ""});
  ASSERT_TRUE(handle.has_value()) << "featx::tap is not registered; is //ops:ops linked with alwayslink?";
  EXPECT_EQ(c10::toString(handle->schema()), "featx::tap(Tensor(a) x, str tag) -> Tensor(a)");
}

TEST(TapOp, JitKnowsTheCaptureOps) {
  for (const char* name : {"featx::tap", "featx::capture_begin", "featx::capture_end"}) {
    EXPECT_FALSE(jit::getAllOperatorsFor(c10::Symbol::fromQualString(name)).empty()) << name;
  }
}

TEST(TapOp, ReturnsTheSameTensorNotACopy) {
  auto tap = c10::Dispatcher::singleton()
                 .findSchemaOrThrow("featx::tap", "")
                 .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  at::Tensor x = torch::randn({2, 3});
  at::Tensor y = tap.call(x, "t");
  EXPECT_TRUE(y.is_same(x));
}

// The overload featx.insert_taps uses for a value a later in-place op
// overwrites: the capture keeps the value as it was, the graph gets the
// tensor itself, and nothing is copied while no capture is open.
TEST(TapOp, CopyOverloadRecordsTheValueAsItWasAtTheTap) {
  auto tap = c10::Dispatcher::singleton()
                 .findSchemaOrThrow("featx::tap", "copy")
                 .typed<at::Tensor(const at::Tensor&, c10::string_view, bool)>();
  at::Tensor x = torch::zeros({3});
  at::Tensor passed_without_capture = tap.call(x, "t", true);
  EXPECT_TRUE(passed_without_capture.is_same(x));

  featx::Capture capture;
  at::Tensor y = tap.call(x, "t", true);
  EXPECT_TRUE(y.is_same(x));
  y.add_(1);  // the in-place op that follows the tap in a rewritten graph
  EXPECT_TRUE(torch::equal(capture.activations().at("t"), torch::zeros({3})));
  tap.call(x, "uncopied", false);
  EXPECT_TRUE(capture.activations().at("uncopied").is_same(x));
}

TEST(TapOp, PassesGradientsThrough) {
  at::Tensor x = torch::randn({3}, torch::requires_grad());
  auto tap = c10::Dispatcher::singleton()
                 .findSchemaOrThrow("featx::tap", "")
                 .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  (tap.call(x, "t") * 2).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), torch::full({3}, 2.0)));
}

// Later passes decide where clones are needed from alias analysis, so it must
// see the tap's output as its input and an in-place op on it as a write to it.
TEST(TapOp, AliasAnalysisSeesOutputAsItsInput) {
  auto graph = std::make_shared<jit::Graph>();
  jit::parseIR(R"IR(
    graph(%x : Tensor, %y0 : Tensor):
      %tag : str = prim::Constant[value="t"]()
      %one : int = prim::Constant[value=1]()
      %none : NoneType = prim::Constant()
      %y : Tensor = aten::clone(%y0, %none)
      %t : Tensor = featx::tap(%x, %tag)
      %z : Tensor = aten::add_(%t, %y, %one)
      return (%z))IR",
               graph.get());
  jit::AliasDb alias_db(graph);
  jit::Value* x = graph->inputs()[0];
  jit::Node* tap = nullptr;
  jit::Value* y = nullptr;
  jit::Node* add = nullptr;
  for (jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("featx::tap")) tap = n;
    if (n->kind() == c10::Symbol::fromQualString("aten::add_")) add = n;
    if (n->kind() == c10::Symbol::fromQualString("aten::clone")) y = n->output();
  }
  ASSERT_NE(tap, nullptr);
  ASSERT_NE(add, nullptr);
  EXPECT_TRUE(alias_db.mayAlias(tap->output(), x));
  EXPECT_FALSE(alias_db.mayAlias(tap->output(), y));
  EXPECT_TRUE(alias_db.writesToAlias(add, {x}));
  // The tap itself writes nothing.
  EXPECT_FALSE(alias_db.hasWriters(y));
  EXPECT_FALSE(alias_db.writesToAlias(tap, {x}));
}

}  // namespace
