// featx.protect_aliases decides which activations a later op overwrites: a
// fast path from schemas' alias annotations and module summaries, and torch's
// AliasDb on an analysis copy for the rest. Both must agree on every node of
// every test model, in both training modes.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "plugin/analysis/call_summaries.h"
#include "plugin/analysis/overwritten_later.h"
#include "plugin/analysis/tensor_memory.h"
#include "plugin/naming/named_graph.h"
#include "plugin/pipeline/trace.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

bool IsTensor(const torch::jit::Value* v) { return v->type()->isSubtypeOf(*c10::TensorType::get()); }

class OverwrittenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OverwrittenTest, FastPathAgreesWithAliasDbOnEveryNode) {
  absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel(GetParam());
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (bool training : {true, false}) {
    absl::StatusOr<NamedGraph> named = TraceNamedGraph(ref->module, {}, training);
    ASSERT_TRUE(named.ok()) << named.status();
    std::vector<torch::jit::Value*> values;
    std::vector<std::string> names;
    for (const NamedNode& n : named->nodes) {
      if (n.value != nullptr && IsTensor(n.value)) {
        values.push_back(n.value);
        names.push_back(n.name);
      }
    }
    const std::vector<bool> fast = OverwrittenLater(named->graph, values);
    const std::vector<bool> reference = OverwrittenLaterByAliasDb(named->graph, values);
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(fast[i], reference[i]) << names[i] << (training ? " (train)" : " (eval)");
    }
  }
}

// Summaries read from alias annotations equal AliasDb's on every method and
// function every test model calls.
TEST_P(OverwrittenTest, SummariesFromSchemasEqualAliasDbs) {
  absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel(GetParam());
  ASSERT_TRUE(ref.ok()) << ref.status();
  absl::StatusOr<NamedGraph> named = TraceNamedGraph(ref->module, {}, false);
  ASSERT_TRUE(named.ok()) << named.status();
  CallSummaries fast;
  CallSummaries exact(CallSummaries::Method::kAliasDbOnly);
  std::vector<torch::jit::Block*> blocks = {named->graph->block()};
  while (!blocks.empty()) {
    torch::jit::Block* block = blocks.back();
    blocks.pop_back();
    for (torch::jit::Node* n : block->nodes()) {
      for (torch::jit::Block* b : n->blocks()) blocks.push_back(b);
      if (!IsCall(n)) continue;
      const CallSummary& a = fast.Of(n);
      const CallSummary& b = exact.Of(n);
      EXPECT_EQ(a.writes_arguments, b.writes_arguments) << *n;
      EXPECT_EQ(a.output_may_alias, b.output_may_alias) << *n;
      EXPECT_EQ(a.output_aliases_only_arguments, b.output_aliases_only_arguments) << *n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, OverwrittenTest, ::testing::ValuesIn(testing::AvailableReferenceModels()),
                         [](const auto& info) { return info.param; });

// What a reader of resnet18 and the in-place chain expects.
TEST(Overwritten, InPlaceWritesAfterTheNodeAndOnlyThose) {
  for (const auto& [model, expected] : std::vector<std::pair<std::string, std::map<std::string, bool>>>{
           {"resnet18",
            {{"layer1.0.conv1", false},
             {"layer1.0.bn1", true},
             {"layer1.0.relu", false},
             {"layer1.0.bn2", true},
             {"layer1.0.add", true},
             {"layer1", false},
             {"fc", false}}},
           {"inplace_chain", {{"shortcut", false}, {"bn", true}, {"relu", true}, {"add_", true}, {"mul_", false}}}}) {
    absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel(model);
    ASSERT_TRUE(ref.ok()) << ref.status();
    absl::StatusOr<NamedGraph> named = TraceNamedGraph(ref->module, {}, false);
    ASSERT_TRUE(named.ok());
    std::vector<torch::jit::Value*> values;
    std::vector<std::string> names;
    for (const NamedNode& n : named->nodes) {
      if (expected.count(n.name) != 0) {
        values.push_back(n.value);
        names.push_back(n.name);
      }
    }
    // layer1 is the prefix for its last node.
    if (model == "resnet18") {
      for (const NamedNode& n : named->nodes) {
        if (n.name == "layer1.1.relu_1") values.push_back(n.value), names.push_back("layer1");
      }
    }
    ASSERT_EQ(values.size(), expected.size()) << model;
    const std::vector<bool> got = OverwrittenLater(named->graph, values);
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got[i], expected.at(names[i])) << model << " " << names[i];
  }
}

// The fast path decides, without alias analysis of the whole graph, through
// torch.nn.functional calls (googlenet's F.relu(x, inplace=True) writes the
// batch norm's output; F.max_pool2d only reads a block's torch.cat) and into
// the tuple a scripted model returns (GoogLeNetOutputs holds fc).
TEST(Overwritten, FastPathSeesThroughFunctionalCallsAndReturnedTuples) {
  absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel("googlenet");
  ASSERT_TRUE(ref.ok()) << ref.status();
  absl::StatusOr<NamedGraph> named = TraceNamedGraph(ref->module, {}, false);
  ASSERT_TRUE(named.ok());
  const std::map<std::string, bool> expected = {
      {"conv1.conv", false}, {"conv1.bn", true}, {"inception3a.cat", false}, {"fc", false}};
  CallSummaries summaries;
  size_t seen = 0;
  for (const NamedNode& n : named->nodes) {
    auto it = expected.find(n.name);
    if (it == expected.end()) continue;
    ++seen;
    torch::jit::Value* root = FreshRoot(n.value, summaries);
    ASSERT_NE(root, nullptr) << n.name;
    const std::optional<bool> written = MemoryUsedAfter(root, n.value->node(), Access::kWrite, summaries);
    ASSERT_TRUE(written.has_value()) << n.name << ": left to alias analysis";
    EXPECT_EQ(*written, it->second) << n.name;
  }
  EXPECT_EQ(seen, expected.size());
}

}  // namespace
}  // namespace featx
