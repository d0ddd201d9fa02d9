// torchvision's numbering of repeated names, case by case. The expected lists
// are what torchvision 0.14 and 0.29 give for the same sequences of
// qualnames (NodePathTracer._get_node_qualname); the `suffixes` test model
// checks the same rule against torchvision itself.
#include "plugin/naming/local_suffixes.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace featx {
namespace {

std::vector<std::string> Number(const std::vector<std::string>& qualnames) {
  LocalSuffixes suffixes;
  std::vector<std::string> out;
  for (const std::string& q : qualnames) out.push_back(suffixes.Unique(q));
  return out;
}

TEST(LocalSuffixes, RepeatsCountFromOne) {
  EXPECT_EQ(Number({"add", "add_1", "add_2"}), (std::vector<std::string>{"add", "add_1", "add_2"}));
}

TEST(LocalSuffixes, FxsGlobalSuffixIsReplacedByALocalOne) {
  EXPECT_EQ(Number({"layer1.relu", "layer2.relu_1", "layer2.relu_2"}),
            (std::vector<std::string>{"layer1.relu", "layer2.relu", "layer2.relu_1"}));
}

TEST(LocalSuffixes, CountsOnFromTheLatestMatchNotTheHighest) {
  // conv_1_2 strips to conv_1, whose latest match is the module conv_1's
  // name; then conv counts on from conv_2, not from conv_1_1.
  EXPECT_EQ(Number({"conv", "conv_1", "conv", "conv_1_2", "conv_1", "conv"}),
            (std::vector<std::string>{"conv", "conv_1", "conv_2", "conv_1_1", "conv_3", "conv_4"}));
}

TEST(LocalSuffixes, IndicesPastTen) {
  std::vector<std::string> in(12, "relu");
  EXPECT_EQ(Number(in).back(), "relu_11");
}

TEST(LocalSuffixes, AStemNeedsACharacterBeforeItsUnderscore) {
  EXPECT_EQ(Number({"_1", "_1"}), (std::vector<std::string>{"_1", "_1_1"}));
}

TEST(LocalSuffixes, MergeKeepsTheHigherIndexOfEachBranch) {
  LocalSuffixes left, right;
  left.Unique("a");
  right.Unique("a");
  right.Unique("a");
  left.MergeMax(right);
  EXPECT_EQ(left.Unique("a"), "a_2");
}

}  // namespace
}  // namespace featx
