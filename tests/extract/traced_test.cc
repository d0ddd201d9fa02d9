// A model saved by torch.jit.trace (the way most models reach Triton): names
// equal torchvision's; every node that holds a value extracts in all three
// modes with torchvision's values; a leaf that returned its input (which the
// trace kept no value of) is refused with the node that holds the tensor.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/mode_values.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kModel[] = "traced_pass_through";

TEST(Traced, NamesEqualTorchvisions) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(kModel);
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(ref.module, {.suppress_diff_warning = true});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->eval, ElementsAreArray(ref.eval_names));
  EXPECT_THAT(names->train, ElementsAreArray(ref.train_names));
}

TEST(Traced, NodesWithValuesExtractInEveryModeAsTorchvisions) {
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel(kModel);
    const std::vector<std::string> nodes = {"x", "conv", "relu", "mean", "fc"};
    Extraction got = testing::RewriteAndRun(ref.module, {.return_nodes = nodes}, mode, ref.input);
    ASSERT_EQ(got.activations.size(), nodes.size()) << ModeName(mode);
    for (const std::string& node : nodes) {
      ASSERT_TRUE(ref.values.contains(node)) << node;
      EXPECT_TRUE(torch::allclose(got.activations.at(node), ref.values.at(node), 1e-4, 1e-5))
          << ModeName(mode) << " " << node;
    }
  }
}

TEST(Traced, ALeafThatReturnedItsInputNamesTheNodeThatHoldsIt) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(kModel);
  for (const auto& [node, holder] : {std::pair<std::string, std::string>("ident", "conv"), {"depth", "relu"}}) {
    absl::StatusOr<torch::jit::Module> extractor =
        CreateFeatureExtractor(ref.module, {.return_nodes = {node}, .mode = Mode::kDict});
    ASSERT_FALSE(extractor.ok()) << node;
    EXPECT_THAT(std::string(extractor.status().message()),
                HasSubstr("node '" + node + "' holds no value: the model was made by torch.jit.trace"));
    EXPECT_THAT(std::string(extractor.status().message()), HasSubstr("most likely '" + holder + "'"));
    // And the tensor it names is the one torchvision gives for the leaf.
    EXPECT_TRUE(torch::allclose(ref.values.at(holder), ref.values.at(node))) << node;
  }
}

}  // namespace
}  // namespace featx
