// Choosing outputs by name, as torchvision's return_nodes does.
#include "plugin/naming/return_nodes.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace featx {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<NamedNode> Nodes(const std::vector<std::string>& names) {
  std::vector<NamedNode> nodes;
  for (const std::string& n : names) nodes.push_back({n, nullptr, nullptr});
  return nodes;
}

const std::vector<NamedNode> kResNetish =
    Nodes({"x", "conv1", "layer1.0.conv1", "layer1.0.relu", "layer1.0.add", "layer1.0.relu_1", "layer1.1.conv1",
           "layer1.1.relu_1", "layer10.conv", "fc"});

std::vector<std::pair<std::string, std::string>> Resolve(const std::vector<std::string>& specs) {
  absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes(specs);
  EXPECT_TRUE(wanted.ok()) << wanted.status();
  absl::StatusOr<std::vector<ChosenNode>> chosen = ResolveReturnNodes(*wanted, kResNetish, "eval");
  EXPECT_TRUE(chosen.ok()) << chosen.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const ChosenNode& c : *chosen) out.emplace_back(c.output_name, c.node->name);
  return out;
}

TEST(ReturnNodes, FullNameChoosesThatNode) {
  EXPECT_EQ(Resolve({"layer1.0.relu"}),
            (std::vector<std::pair<std::string, std::string>>{{"layer1.0.relu", "layer1.0.relu"}}));
}

TEST(ReturnNodes, PrefixChoosesTheLastNodeUnderIt) {
  // `layer1` is not a prefix of `layer10.conv`: prefixes end at a dot.
  EXPECT_EQ(Resolve({"layer1"}), (std::vector<std::pair<std::string, std::string>>{{"layer1", "layer1.1.relu_1"}}));
  EXPECT_EQ(Resolve({"layer1.0"}), (std::vector<std::pair<std::string, std::string>>{{"layer1.0", "layer1.0.relu_1"}}));
}

TEST(ReturnNodes, OutputNameAfterColon) {
  EXPECT_EQ(Resolve({"layer1:feat1", "fc:logits"}),
            (std::vector<std::pair<std::string, std::string>>{{"feat1", "layer1.1.relu_1"}, {"logits", "fc"}}));
}

TEST(ReturnNodes, OutputsComeInGraphOrder) {
  EXPECT_EQ(Resolve({"fc", "x", "layer1.0.add"}), (std::vector<std::pair<std::string, std::string>>{
                                                      {"x", "x"}, {"layer1.0.add", "layer1.0.add"}, {"fc", "fc"}}));
}

// torchvision would give the node to the first spec and silently drop the
// second; featx keeps both outputs.
TEST(ReturnNodes, TwoSpecsForOneNodeKeepBothOutputs) {
  EXPECT_EQ(
      Resolve({"layer1", "layer1.1.relu_1:last"}),
      (std::vector<std::pair<std::string, std::string>>{{"layer1", "layer1.1.relu_1"}, {"last", "layer1.1.relu_1"}}));
}

TEST(ReturnNodes, NamesAreLiteralNotRegexes) {
  absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes({"layer1.0.relu.1"});
  ASSERT_TRUE(wanted.ok());
  // A regex would let the dots match '_' in "layer1.0.relu_1".
  EXPECT_FALSE(ResolveReturnNodes(*wanted, kResNetish, "eval").ok());
}

TEST(ReturnNodes, UnknownNodeNamesTheSpecAndTheClosestNames) {
  absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes({"layer1.0.rleu"});
  ASSERT_TRUE(wanted.ok());
  absl::StatusOr<std::vector<ChosenNode>> chosen = ResolveReturnNodes(*wanted, kResNetish, "train");
  ASSERT_EQ(chosen.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(chosen.status().message()),
              AllOf(HasSubstr("node 'layer1.0.rleu' is not in the model's train-mode graph"),
                    HasSubstr("did you mean 'layer1.0.relu'")));
}

TEST(ReturnNodes, EmptyChoiceIsAnError) {
  absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes({});
  ASSERT_EQ(wanted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wanted.status().message()), HasSubstr("no return nodes given"));
}

TEST(ReturnNodes, DuplicateOutputNamesAreAnError) {
  absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes({"layer1:f", "fc:f"});
  ASSERT_EQ(wanted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wanted.status().message()),
              HasSubstr("output name 'f' is given twice ('layer1:f' and 'fc:f')"));
}

TEST(ReturnNodes, EmptySpecOrOutputNameIsAnError) {
  EXPECT_THAT(std::string(ParseReturnNodes({":f"}).status().message()), HasSubstr("has no node name"));
  EXPECT_THAT(std::string(ParseReturnNodes({"fc:"}).status().message()), HasSubstr("has an empty output name"));
}

TEST(ReturnNodes, OutputNamesThatAreNotUtf8AreRefused) {
  for (const std::string& bad : {std::string("fc:f\xff"), std::string("fc:\xc0\xaf"),  // overlong '/'
                                 std::string("fc:\xed\xa0\x80"),                       // a surrogate
                                 std::string("fc:\xf4\x90\x80\x80"),                   // above U+10FFFF
                                 std::string("fc:ab\xe2\x82"), std::string("fc\x80")}) {
    absl::StatusOr<std::vector<ReturnNode>> wanted = ParseReturnNodes({bad});
    ASSERT_EQ(wanted.status().code(), absl::StatusCode::kInvalidArgument) << absl::CHexEscape(bad);
    EXPECT_THAT(std::string(wanted.status().message()), HasSubstr("is not valid UTF-8"));
  }
  for (const char* good : {"fc:f\xc3\xa9"
                           "ature",
                           "fc:\xe2\x82\xac", "fc:\xf0\x9f\x98\x80", "fc:ok"}) {
    EXPECT_TRUE(ParseReturnNodes({good}).ok()) << absl::CHexEscape(good);
  }
}

}  // namespace
}  // namespace featx
