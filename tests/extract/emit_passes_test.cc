// The passes that shape what a rewritten forward emits, one graph in and one
// out each (parseIR -> pass -> graph->lint() -> FileCheck):
// featx.protect_aliases, featx.return_dict, featx.return_tuple,
// featx.bracket_request and featx.merge_train_eval.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>

#include "plugin/passes/bracket_request.h"
#include "plugin/passes/merge_train_eval.h"
#include "plugin/passes/protect_aliases.h"
#include "plugin/passes/return_dict.h"
#include "plugin/passes/return_tuple.h"
#include "tests/testing/ir.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;
using jit::testing::FileCheck;

using testing::ParseGraph;

// The first node of `kind`'s output.
jit::Value* Made(jit::Graph& graph, const char* kind) {
  for (jit::Node* n : graph.nodes()) {
    if (n->kind() == c10::Symbol::fromQualString(kind)) return n->output();
  }
  ADD_FAILURE() << "no " << kind;
  return nullptr;
}

// relu's output is written in place by add_ later; sigmoid's is only read.
constexpr char kReluWrittenLater[] = R"IR(
graph(%x : Tensor):
  %one : int = prim::Constant[value=1]()
  %r : Tensor = aten::relu(%x)
  %s : Tensor = aten::sigmoid(%r)
  %w : Tensor = aten::add_(%r, %s, %one)
  return (%w))IR";

TEST(ProtectAliases, AValueWrittenLaterIsClonedRightAfterItsNode) {
  auto graph = ParseGraph(kReluWrittenLater);
  jit::Value* relu = Made(*graph, "aten::relu");
  std::vector<jit::Value*> kept = ProtectAliases(graph, {relu});
  graph->lint();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NE(kept[0], relu);
  EXPECT_EQ(kept[0]->node()->kind(), c10::aten::clone);
  EXPECT_EQ(kept[0]->node()->input(0), relu);
  // Before the next op: the clone holds relu as it was at its node.
  FileCheck().check("aten::relu")->check("aten::clone")->check("aten::sigmoid")->check("aten::add_")->run(*graph);
}

TEST(ProtectAliases, AValueNothingWritesIsKeptAsItIs) {
  auto graph = ParseGraph(kReluWrittenLater);
  jit::Value* sigmoid = Made(*graph, "aten::sigmoid");
  std::vector<jit::Value*> kept = ProtectAliases(graph, {sigmoid, sigmoid});
  graph->lint();
  EXPECT_EQ(kept, (std::vector<jit::Value*>{sigmoid, sigmoid}));
  FileCheck().check_not("aten::clone")->run(*graph);
}

TEST(ProtectAliases, OneCloneServesAValueChosenTwice) {
  auto graph = ParseGraph(kReluWrittenLater);
  jit::Value* relu = Made(*graph, "aten::relu");
  std::vector<jit::Value*> kept = ProtectAliases(graph, {relu, relu});
  graph->lint();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], kept[1]);
  FileCheck().check_count("aten::clone", 1, /*exactly=*/true)->run(*graph);
}

constexpr char kTwoOps[] = R"IR(
graph(%x : Tensor):
  %r : Tensor = aten::relu(%x)
  %s : Tensor = aten::sigmoid(%r)
  return (%s))IR";

TEST(ReturnDict, TheGraphReturnsTheChosenValuesByNameInGraphOrder) {
  auto graph = ParseGraph(kTwoOps);
  ReturnDict(graph, {{"layer1", Made(*graph, "aten::relu")}, {"head", Made(*graph, "aten::sigmoid")}});
  graph->lint();
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(*graph->outputs()[0]->type(), *c10::DictType::create(c10::StringType::get(), c10::TensorType::get()));
  FileCheck()
      .check("prim::DictConstruct")
      ->check("aten::relu")
      ->check("\"layer1\"")
      ->check("aten::_set_item")
      ->check("aten::sigmoid")
      ->check("\"head\"")
      ->check("aten::_set_item")
      ->run(*graph);
}

TEST(ReturnDict, AValueInsideABranchIsStoredInThatBranch) {
  auto graph = ParseGraph(R"IR(
graph(%x : Tensor, %c : bool):
  %y : Tensor = prim::If(%c)
    block0():
      %r : Tensor = aten::relu(%x)
      -> (%r)
    block1():
      -> (%x)
  return (%y))IR");
  jit::Value* relu = graph->nodes().front()->blocks()[0]->nodes().front()->output();
  ReturnDict(graph, {{"relu", relu}});
  graph->lint();
  FileCheck()
      .check("prim::DictConstruct")
      ->check("prim::If")
      ->check("aten::relu")
      ->check("aten::_set_item")
      ->check("block1")
      ->run(*graph);
}

TEST(ReturnTuple, TheModelsOwnOutputsComeFirstThenTheChosenValues) {
  auto graph = ParseGraph(R"IR(
graph(%x : Tensor):
  %r : Tensor = aten::relu(%x)
  %s : Tensor = aten::sigmoid(%r)
  %t : (Tensor, Tensor) = prim::TupleConstruct(%s, %r)
  return (%t))IR");
  jit::Value* relu = Made(*graph, "aten::relu");
  jit::Value* sigmoid = Made(*graph, "aten::sigmoid");
  ReturnTuple(graph, {{"relu", relu}});
  graph->lint();
  ASSERT_EQ(graph->outputs().size(), 1u);
  jit::Node* tuple = graph->outputs()[0]->node();
  ASSERT_EQ(tuple->kind(), c10::prim::TupleConstruct);
  // Nested outputs flattened: sigmoid, relu (the model's own), then relu.
  EXPECT_EQ(tuple->inputs().vec(), (std::vector<jit::Value*>{sigmoid, relu, relu}));
}

// The graph's nodes other than constants, in order.
std::vector<jit::Node*> NonConstantNodes(jit::Graph& graph) {
  std::vector<jit::Node*> nodes;
  for (jit::Node* n : graph.nodes()) {
    if (n->kind() != c10::prim::Constant) nodes.push_back(n);
  }
  return nodes;
}

TEST(BracketRequest, BeginComesFirstAndEndLastNamingTheSink) {
  auto graph = ParseGraph(kTwoOps);
  BracketRequest(graph, "sink-a");
  graph->lint();
  std::vector<jit::Node*> nodes = NonConstantNodes(*graph);
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_EQ(nodes.front()->kind().toQualString(), std::string("featx::request_begin"));
  EXPECT_EQ(nodes.back()->kind().toQualString(), std::string("featx::request_end"));
  for (jit::Node* bracket : {nodes.front(), nodes.back()}) {
    ASSERT_EQ(bracket->inputs().size(), 1u);
    EXPECT_EQ(jit::toIValue(bracket->input(0))->toStringRef(), "sink-a");
  }
}

TEST(BracketRequest, NoSinkCallsThePlainOverloads) {
  auto graph = ParseGraph(kTwoOps);
  BracketRequest(graph);
  graph->lint();
  std::vector<jit::Node*> nodes = NonConstantNodes(*graph);
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_TRUE(nodes.front()->inputs().empty());
  EXPECT_TRUE(nodes.back()->inputs().empty());
  FileCheck().check("featx::request_begin")->check("aten::relu")->check("featx::request_end")->run(*graph);
}

TEST(MergeTrainEval, TheModulesTrainingFlagPicksTheGraph) {
  // Two methods of one module: graphs with the same inputs, the module first.
  jit::Module m(c10::QualifiedName("__torch__.mymodels.M"));
  m.register_attribute("training", c10::BoolType::get(), false);
  m.define(R"JIT(
def in_train(self, x: Tensor) -> Tensor:
  return torch.relu(x)
def in_eval(self, x: Tensor) -> Tensor:
  return torch.sigmoid(x)
)JIT");
  auto merged = MergeTrainEval(m.get_method("in_train").graph()->copy(), m.get_method("in_eval").graph()->copy());
  merged->lint();
  FileCheck()
      .check("prim::GetAttr[name=\"training\"]")
      ->check("prim::If")
      ->check("aten::relu")
      ->check("aten::sigmoid")
      ->run(*merged);
}

}  // namespace
}  // namespace featx
