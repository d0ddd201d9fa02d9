// --featx_leaf_functions (torchvision's autowrap_functions): a function the
// model calls stays one node, named after the function as FX names it; the
// defaults (torch.nn.functional, torchvision's wrapped functions) stay
// leaves; a name the model does not call is an error with the closest.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

#include "plugin/featx.h"
#include "plugin/naming/leaf_functions.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Resolves the bare names of functions defined in `cu` (Python's globals).
class FunctionResolver : public jit::Resolver {
 public:
  explicit FunctionResolver(std::shared_ptr<jit::CompilationUnit> cu) : cu_(std::move(cu)) {}

  std::shared_ptr<jit::SugaredValue> resolveValue(const std::string& name, jit::GraphFunction& m,
                                                  const jit::SourceRange& loc) override {
    for (jit::Function* function : cu_->get_functions()) {
      if (function->name() == name) return std::make_shared<jit::FunctionValue>(function);
    }
    return jit::nativeResolver()->resolveValue(name, m, loc);
  }

  c10::TypePtr resolveType(const std::string& name, const jit::SourceRange& loc) override {
    return jit::nativeResolver()->resolveType(name, loc);
  }

 private:
  std::shared_ptr<jit::CompilationUnit> cu_;
};

// mylib.blocks.scaled(x) = x * 2 + 1, and mylib.blocks.shifted(x) = scaled(x) - 1,
// called as shifted(conv-like relu(x)).relu().
jit::Module WithHelpers() {
  jit::Module m(c10::QualifiedName("__torch__.mylib.models.WithHelpers"));
  m.register_attribute("training", c10::BoolType::get(), false);
  std::shared_ptr<jit::CompilationUnit> cu = m._ivalue()->compilation_unit();
  auto resolver = std::make_shared<FunctionResolver>(cu);
  cu->define(c10::QualifiedName("__torch__.mylib.blocks"), "def scaled(x: Tensor) -> Tensor:\n  return x * 2 + 1\n",
             resolver, nullptr);
  cu->define(c10::QualifiedName("__torch__.mylib.blocks"),
             "def shifted(x: Tensor) -> Tensor:\n  return scaled(x) - 1\n", resolver, nullptr);
  m.define("def forward(self, x: Tensor) -> Tensor:\n  return shifted(torch.relu(x)).relu()\n", resolver);
  return m;
}

std::vector<std::string> EvalNames(const jit::Module& m, const std::vector<std::string>& leaf_functions) {
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(m, {.leaf_functions = leaf_functions});
  EXPECT_TRUE(names.ok()) << names.status();
  return names.ok() ? names->eval : std::vector<std::string>{};
}

TEST(LeafFunctions, FunctionsAreTracedThroughUnlessNamed) {
  const jit::Module m = WithHelpers();
  EXPECT_THAT(EvalNames(m, {}), ElementsAre("x", "relu", "mul", "add", "sub", "relu_1"));
  EXPECT_THAT(EvalNames(m, {"mylib.blocks.shifted"}), ElementsAre("x", "relu", "shifted", "relu_1"));
  EXPECT_THAT(EvalNames(m, {"scaled"}), ElementsAre("x", "relu", "scaled", "sub", "relu_1"));
  EXPECT_THAT(EvalNames(m, {"__torch__.mylib.blocks.scaled"}), ElementsAre("x", "relu", "scaled", "sub", "relu_1"));
}

TEST(LeafFunctions, CalledByListsEveryFunctionReachedOnce) {
  EXPECT_THAT(LeafFunctions::CalledBy(WithHelpers()), ElementsAre("mylib.blocks.shifted", "mylib.blocks.scaled"));
}

TEST(LeafFunctions, ANameTheModelDoesNotCallIsAnErrorWithTheClosest) {
  absl::StatusOr<LeafFunctions> made = LeafFunctions::Create(WithHelpers(), {"scaed"});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(made.status().message()),
              HasSubstr("leaf function 'scaed' is not a function this model calls; did you mean 'scaled'"));
  made = LeafFunctions::Create(WithHelpers(), {"mylib.blocks.scale"});
  ASSERT_FALSE(made.ok());
  EXPECT_THAT(std::string(made.status().message()), HasSubstr("did you mean 'mylib.blocks.scaled'"));
}

TEST(LeafFunctions, TorchvisionsWrappedFunctionsAreDefaults) {
  const LeafFunctions defaults;
  EXPECT_TRUE(defaults.IsLeaf("__torch__.torchvision.models.swin_transformer.shifted_window_attention"));
  EXPECT_TRUE(defaults.IsLeaf("__torch__.torch.nn.functional.relu"));
  EXPECT_TRUE(defaults.IsLeaf("__torch__.torchvision.models.video.___torch_mangle_4.mvit._add_shortcut"));
  EXPECT_FALSE(defaults.IsLeaf("__torch__.mylib.blocks.scaled"));
}

}  // namespace
}  // namespace featx
