// Each naming pass on its own, on small modules defined here, checked on the
// IR with FileCheck and on the names it leads to.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>

#include "plugin/naming/fx_node_name.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/naming/module_path.h"
#include "plugin/passes/fold_module_attributes.h"
#include "plugin/passes/inline_non_leaf.h"
#include "plugin/passes/insert_taps.h"
#include "plugin/passes/name_nodes.h"
#include "plugin/passes/specialize_training.h"
#include "plugin/pipeline/trace.h"
#include "tools/default_model.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;
using jit::testing::FileCheck;
using ::testing::ElementsAre;

jit::Module NewModule(const std::string& python_class) {
  jit::Module m(c10::QualifiedName("__torch__." + python_class));
  m.register_attribute("training", c10::BoolType::get(), false);
  return m;
}

jit::Module Relu() {
  jit::Module m = NewModule("torch.nn.modules.activation.ReLU");
  m.define("def forward(self, x: Tensor) -> Tensor:\n  return torch.relu(x)\n");
  return m;
}

std::vector<std::string> EvalNames(const jit::Module& m, const std::vector<std::string>& leaves = {}) {
  absl::StatusOr<NamedGraph> named = TraceNamedGraph(m, leaves, /*training=*/false);
  EXPECT_TRUE(named.ok()) << named.status();
  return named->Names();
}

std::shared_ptr<jit::Graph> ForwardCopy(const jit::Module& m) { return m.get_method("forward").graph()->copy(); }

// `m`'s forward inlined as featx does, with `m` for attribute values.
std::shared_ptr<jit::Graph> Inlined(const jit::Module& m) {
  auto graph = ForwardCopy(m);
  absl::StatusOr<LeafModules> leaves = LeafModules::Create(m, {});
  EXPECT_TRUE(leaves.ok());
  InlineNonLeaf(graph, *leaves, &m);
  graph->lint();
  return graph;
}

// A root module whose forward calls `child`, held as `name`.
jit::Module Calling(const std::string& name, const jit::Module& child) {
  jit::Module top = NewModule("mymodels.Top");
  top.register_module(name, child);
  top.define("def forward(self, x: Tensor) -> Tensor:\n  return self." + name + ".forward(x)\n");
  return top;
}

TEST(InlineNonLeaf, LeafCallsStayAndEverythingElseIsInlined) {
  jit::Module model = MakeDefaultModel();
  auto graph = ForwardCopy(model);
  absl::StatusOr<LeafModules> leaves = LeafModules::Create(model, {});
  ASSERT_TRUE(leaves.ok());
  InlineNonLeaf(graph, *leaves);
  int calls = 0;
  for (jit::Node* n : graph->nodes()) {
    if (n->kind() != c10::prim::CallMethod) continue;
    ++calls;
    EXPECT_TRUE(leaves->IsLeaf(*n->input(0)->type()->expect<c10::ClassType>())) << *n;
  }
  // conv1, bn1, relu, 4 blocks x 6 leaf calls, 2 in downsample, avgpool, fc.
  EXPECT_EQ(calls, 3 + 4 * 6 + 2 + 2);
  // The residual add of layer1's first block carries that block's path.
  bool found = false;
  for (jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::aten::add_ && ModulePath(n) == "layer1.0") found = true;
  }
  EXPECT_TRUE(found);
}

TEST(InlineNonLeaf, UserLeafStaysACall) {
  jit::Module block = NewModule("mymodels.Block");
  block.register_module("act", Relu());
  block.define("def forward(self, x: Tensor) -> Tensor:\n  return self.act.forward(x) * 2.0\n");
  jit::Module top = NewModule("mymodels.Top");
  top.register_module("block", block);
  top.define("def forward(self, x: Tensor) -> Tensor:\n  return self.block.forward(x) + 1.0\n");

  EXPECT_THAT(EvalNames(top), ElementsAre("x", "block.act", "block.mul", "add"));
  EXPECT_THAT(EvalNames(top, {"Block"}), ElementsAre("x", "block", "add"));
}

// The inliner evaluates what FX evaluates in Python while it traces: code
// behind a False flag is never copied in (densenet121's memory_efficient).
TEST(InlineNonLeaf, CodeBehindAFalseFlagIsNeverCopiedIn) {
  jit::Module layer = NewModule("mymodels.Layer");
  layer.register_attribute("memory_efficient", c10::BoolType::get(), false);
  layer.register_attribute("drop_rate", c10::FloatType::get(), 0.0);
  layer.define(R"(
def any_requires_grad(self, x: Tensor) -> bool:
    return bool(torch.sigmoid(x).requires_grad)

def forward(self, x: Tensor) -> Tensor:
    if self.memory_efficient and self.any_requires_grad(x):
        x = torch.tanh(x)
    y = torch.relu(x)
    if self.drop_rate > 0:
        y = torch.dropout(y, self.drop_rate, self.training)
    return y
)");
  jit::Module top = Calling("layer", layer);
  auto graph = Inlined(top);
  FileCheck()
      .check_not("prim::If")
      ->check_not("aten::sigmoid")
      ->check_not("memory_efficient")
      ->check("aten::relu")
      ->check_not("aten::dropout")
      ->check_not("training")
      ->run(*graph);
  EXPECT_THAT(EvalNames(top), ElementsAre("x", "layer.relu"));
}

// A module that writes an attribute it reads sees it change between calls:
// the read stays, even when the write comes after it.
TEST(InlineNonLeaf, AttributeTheCodeWritesStaysARead) {
  jit::Module counter = NewModule("mymodels.Counter");
  counter.register_attribute("calls", c10::IntType::get(), 0);
  counter.define(R"(
def forward(self, x: Tensor) -> Tensor:
    if self.calls > 1:
        x = x * 2.0
    self.calls = self.calls + 1
    return x
)");
  auto graph = Inlined(Calling("counter", counter));
  FileCheck()
      .check("prim::GetAttr[name=\"calls\"]")
      ->check("prim::If")
      ->check("aten::mul")
      ->check("prim::SetAttr[name=\"calls\"]")
      ->run(*graph);
}

// inception_v3's `aux_defined = self.training and self.aux_logits`,
// inlined.
std::shared_ptr<jit::Graph> InlinedAuxBranch(bool aux_logits) {
  jit::Module m = NewModule("mymodels.Aux");
  m.register_attribute("aux_logits", c10::BoolType::get(), aux_logits);
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    aux_defined = self.training and self.aux_logits
    if aux_defined:
        x = x * 2.0
    return torch.relu(x)
)");
  return Inlined(m);
}

// With aux_logits False the condition is False in both modes: one graph
// serves both.
TEST(InlineNonLeaf, ConditionOnTrainingThatGivesTheSameInBothModesFolds) {
  auto graph = InlinedAuxBranch(/*aux_logits=*/false);
  FileCheck().check_not("prim::If")->check_not("aten::mul")->check("aten::relu")->run(*graph);
  EXPECT_FALSE(ReadsTraining(graph));
}

// Branches that differ keep the condition, and the modes their own graphs.
TEST(InlineNonLeaf, ConditionOnTrainingThatDiffersStays) {
  auto graph = InlinedAuxBranch(/*aux_logits=*/true);
  FileCheck().check("prim::GetAttr[name=\"training\"]")->check("prim::If")->check("aten::mul")->run(*graph);
  EXPECT_TRUE(ReadsTraining(graph));
}

TEST(FoldModuleAttributes, BranchOnAFalseFlagDisappears) {
  jit::Module m = NewModule("mymodels.Residual");
  m.register_attribute("use_res", c10::BoolType::get(), false);
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    y = torch.relu(x)
    if self.use_res:
        y = y + x
    return y
)");
  auto graph = ForwardCopy(m);
  FoldModuleAttributes(graph, m);
  jit::ConstantPropagation(graph);
  FileCheck().check("aten::relu")->check_not("prim::If")->check_not("aten::add")->run(*graph);
  EXPECT_THAT(EvalNames(m), ElementsAre("x", "relu"));
}

TEST(FoldModuleAttributes, AttributeTheGraphWritesStaysARead) {
  jit::Module m = NewModule("mymodels.Counter");
  m.register_attribute("calls", c10::IntType::get(), 0);
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    self.calls = self.calls + 1
    if self.calls > 1:
        x = x * 2.0
    return x
)");
  auto graph = ForwardCopy(m);
  FoldModuleAttributes(graph, m);
  FileCheck().check("prim::GetAttr[name=\"calls\"]")->check("prim::If")->run(*graph);
}

TEST(SpecializeTraining, EachModeKeepsItsBranch) {
  jit::Module m = NewModule("mymodels.Branchy");
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    if self.training:
        x = x * 0.5
    else:
        x = torch.sigmoid(x)
    return x
)");
  auto train = ForwardCopy(m);
  SpecializeTraining(train, /*training=*/true);
  FileCheck().check_not("prim::If")->check("aten::mul")->check_not("aten::sigmoid")->run(*train);
  auto eval = ForwardCopy(m);
  SpecializeTraining(eval, /*training=*/false);
  FileCheck().check_not("prim::If")->check("aten::sigmoid")->check_not("aten::mul")->run(*eval);
}

TEST(NameNodes, SpellingInTheSourceDecidesTheOpName) {
  jit::Module m = NewModule("mymodels.Spellings");
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    a = x / 2.0
    b = torch.div(a, 2.0)
    b += 1.0
    b.add_(1.0)
    n = x.shape[0]
    c = b.view(n, -1)
    return c.float()
)");
  EXPECT_THAT(EvalNames(m), ElementsAre("x", "truediv", "div", "add", "add_", "getattr", "getitem", "view", "float"));
}

TEST(NameNodes, ParameterReadsAreGetAttrNodesBuffersAreNot) {
  jit::Module inner = NewModule("mymodels.Scale");
  inner.register_parameter("gamma", torch::ones({3}), false);
  inner.register_buffer("offset", torch::zeros({3}));
  inner.define("def forward(self, x: Tensor) -> Tensor:\n  return x * self.gamma + self.offset\n");
  jit::Module top = NewModule("mymodels.Top");
  top.register_module("scale", inner);
  top.define("def forward(self, x: Tensor) -> Tensor:\n  return self.scale.forward(x)\n");
  EXPECT_THAT(EvalNames(top), ElementsAre("x", "scale.scale_gamma", "scale.mul", "scale.add"));
}

TEST(FxOpName, WithoutSourceTheOpNameLosesItsUnderscores) {
  auto graph = std::make_shared<jit::Graph>();
  jit::parseIR(R"IR(
    graph(%x : Tensor, %l : int[]):
      %one : int = prim::Constant[value=1]()
      %y : Tensor = aten::add_(%x, %x, %one)
      %i : int = aten::__getitem__(%l, %one)
      return (%y, %i))IR",
               graph.get());
  std::vector<std::string> names;
  for (jit::Node* n : graph->nodes()) {
    if (n->kind() != c10::prim::Constant) names.push_back(FxOpName(n));
  }
  EXPECT_THAT(names, ElementsAre("add", "getitem"));
}

TEST(InsertTaps, LaterUsesReadTheTap) {
  auto graph = std::make_shared<jit::Graph>();
  jit::parseIR(R"IR(
    graph(%self : Tensor, %x : Tensor):
      %y : Tensor = aten::relu(%x)
      %z : Tensor = aten::sigmoid(%y)
      return (%z))IR",
               graph.get());
  jit::Node* relu = graph->nodes().front();
  jit::Node* sigmoid = relu->next();
  InsertTaps(graph, {{graph->inputs()[1], "x"}, {relu->output(), "relu"}});
  FileCheck().check("featx::tap")->check("aten::relu")->check("featx::tap")->check("aten::sigmoid")->run(*graph);
  const c10::Symbol tap = c10::Symbol::fromQualString("featx::tap");
  jit::Node* relu_tap = sigmoid->input(0)->node();
  ASSERT_EQ(relu_tap->kind(), tap);
  EXPECT_EQ(relu_tap->input(0), relu->output());
  EXPECT_EQ(jit::toIValue(relu_tap->input(1))->toStringRef(), "relu");
  ASSERT_EQ(relu->input(0)->node()->kind(), tap);
  EXPECT_EQ(relu->input(0)->node()->input(0), graph->inputs()[1]);
}

}  // namespace
}  // namespace featx
