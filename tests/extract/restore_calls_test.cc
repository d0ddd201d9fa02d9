// featx.restore_calls on small modules defined here: InlineNonLeaf with
// marks, then RestoreCalls with the nodes to keep, checked on the IR with
// FileCheck and graph->lint().
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>

#include "plugin/naming/leaf_modules.h"
#include "plugin/passes/inline_non_leaf.h"
#include "plugin/passes/restore_calls.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;
using jit::testing::FileCheck;

// A module of class mymodels.<python_class> holding `children`; forward is
// compiled when defined, so the children come first.
jit::Module NewModule(const std::string& python_class, const std::string& forward,
                      const std::vector<std::pair<std::string, jit::Module>>& children = {}) {
  jit::Module m(c10::QualifiedName("__torch__.mymodels." + python_class));
  m.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& [name, child] : children) m.register_module(name, child);
  m.define(forward);
  return m;
}

// relu then `+ 1`: two ops FX would name.
jit::Module Block() {
  return NewModule("Block", "def forward(self, x: Tensor) -> Tensor:\n  return torch.relu(x) + 1\n");
}

// `first` then `second`, both Blocks.
jit::Module TwoBlocks() {
  return NewModule("Top",
                   "def forward(self, x: Tensor) -> Tensor:\n  return self.second.forward(self.first.forward(x))\n",
                   {{"first", Block()}, {"second", Block()}});
}

std::shared_ptr<jit::Graph> MarkedInline(const jit::Module& m) {
  auto graph = m.get_method("forward").graph()->copy();
  absl::StatusOr<LeafModules> leaves = LeafModules::Create(m, {});
  EXPECT_TRUE(leaves.ok());
  InlineNonLeaf(graph, *leaves, &m, /*mark_calls=*/true);
  graph->lint();
  return graph;
}

// The last node of `kind` in the graph's top block.
jit::Node* Last(jit::Graph& graph, c10::Symbol kind) {
  jit::Node* found = nullptr;
  for (jit::Node* n : graph.nodes()) {
    if (n->kind() == kind) found = n;
  }
  EXPECT_NE(found, nullptr) << kind.toQualString();
  return found;
}

TEST(RestoreCalls, ACallHoldingNoKeptNodeIsACallAgain) {
  jit::Module model = TwoBlocks();
  auto graph = MarkedInline(model);
  FileCheck()
      .check("prim::featx_call_begin")
      ->check("aten::relu")
      ->check("prim::featx_call_end[name=\"forward\"]")
      ->check("prim::featx_call_begin")
      ->run(*graph);
  jit::Node* kept = Last(*graph, c10::aten::add);  // second's `+ 1`
  EXPECT_EQ(RestoreCalls(graph, {kept}), 1u);
  graph->lint();
  FileCheck()
      .check("prim::GetAttr[name=\"first\"]")
      ->check_next("prim::CallMethod[name=\"forward\"]")
      ->check("aten::relu")
      ->check("aten::add")
      ->check_not("featx_call")
      ->run(*graph);
  EXPECT_EQ(graph->toString().find("featx_call"), std::string::npos) << *graph;
  EXPECT_EQ(kept->kind(), c10::aten::add);  // still in the graph
}

TEST(RestoreCalls, ACallHoldingAKeptNodeStaysInlinedAndItsInnerCallsAreTried) {
  jit::Module outer = NewModule(
      "Outer", "def forward(self, x: Tensor) -> Tensor:\n  return self.inner.forward(x) * 2\n", {{"inner", Block()}});
  jit::Module top =
      NewModule("Top", "def forward(self, x: Tensor) -> Tensor:\n  return self.outer.forward(x)\n", {{"outer", outer}});
  auto graph = MarkedInline(top);
  RestoreCalls(graph, {Last(*graph, c10::aten::mul)});
  graph->lint();
  FileCheck()
      .check("prim::GetAttr[name=\"inner\"]")
      ->check_next("prim::CallMethod[name=\"forward\"]")
      ->check_not("aten::relu")
      ->check("aten::mul")
      ->check_not("featx_call")
      ->run(*graph);
}

TEST(RestoreCalls, ACallWhoseValueIsUsedAfterItStaysInlined) {
  jit::Module model = TwoBlocks();
  auto graph = MarkedInline(model);
  // As if a pass had made the second block read the first's relu directly.
  std::vector<jit::Node*> relus;
  for (jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::aten::relu) relus.push_back(n);
  }
  ASSERT_EQ(relus.size(), 2u);
  relus[1]->replaceInput(0, relus[0]->output());
  RestoreCalls(graph, {Last(*graph, c10::aten::add)});
  graph->lint();
  FileCheck()
      .check_not("prim::CallMethod")
      ->check("aten::relu")
      ->check("aten::relu")
      ->check_not("featx_call")
      ->run(*graph);
}

TEST(RestoreCalls, ACallReturningItsArgumentLeavesItsUsersOnTheArgument) {
  jit::Module top = NewModule(
      "Top", "def forward(self, x: Tensor) -> Tensor:\n  return self.passes.forward(x) * 3\n",
      {{"passes", NewModule("PassOn", "def forward(self, x: Tensor) -> Tensor:\n  torch.relu_(x)\n  return x\n")}});
  auto graph = MarkedInline(top);
  RestoreCalls(graph, {Last(*graph, c10::aten::mul)});
  graph->lint();
  FileCheck().check("prim::CallMethod[name=\"forward\"]")->check_not("aten::relu")->check("aten::mul(%x")->run(*graph);
}

TEST(RestoreCalls, ACallDeclaringAWiderReturnTypeThanItsCodeGivesStaysInlined) {
  jit::Module top = NewModule(
      "Top",
      "def forward(self, x: Tensor) -> Tensor:\n  y = self.maybe.forward(x)\n  assert y is not None\n  return y * 3\n",
      {{"maybe", NewModule("Maybe", "def forward(self, x: Tensor) -> Optional[Tensor]:\n  return torch.relu(x)\n")}});
  auto graph = MarkedInline(top);
  RestoreCalls(graph, {Last(*graph, c10::aten::mul)});
  graph->lint();
  FileCheck().check_not("prim::CallMethod")->check("aten::relu")->check_not("featx_call")->run(*graph);
}

TEST(RestoreCalls, UnmarkedGraphsAreLeftAsTheyAre) {
  jit::Module model = TwoBlocks();
  auto graph = model.get_method("forward").graph()->copy();
  absl::StatusOr<LeafModules> leaves = LeafModules::Create(model, {});
  ASSERT_TRUE(leaves.ok());
  InlineNonLeaf(graph, *leaves, &model);
  const std::string before = graph->toString();
  EXPECT_EQ(RestoreCalls(graph, {}), 0u);
  EXPECT_EQ(graph->toString(), before);
}

}  // namespace
}  // namespace featx
