// Nodes inside prim::If and prim::Loop blocks, which FX cannot trace: in dict
// and tap mode a branch's node is emitted when the branch ran, a loop's node
// with its last iteration's value; tuple mode refuses them
// (dict_extractor_test). The expected values are computed here from the
// model's own conv output with the ops the model's code applies:
//
//   x = conv(x); x = relu(x) if x.sum() > 0 else tanh(x); 3 times: x = x * 0.5
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using ::testing::ElementsAre;

using testing::Keys;

class ControlFlowTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel("control_flow");
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = *std::move(ref);
    plain_ = ref_.module.clone();
    // Scaled far from zero, the input's sign decides the branch.
    inputs_ = {ref_.input * 100, ref_.input * -100};
  }

  // Runs the rewritten model on each input; checks every emitted value and
  // the model's output against the plain model.
  void ExpectBranchValues(const std::vector<std::string>& return_nodes) {
    OutputManifest manifest;
    absl::Status status = InstrumentInPlace(ref_.module, {.return_nodes = return_nodes, .mode = GetParam()}, &manifest);
    ASSERT_TRUE(status.ok()) << status;
    std::vector<bool> branches_taken;
    for (const at::Tensor& input : inputs_) {
      absl::StatusOr<Extraction> got = RunExtractor(ref_.module, manifest, {input});
      ASSERT_TRUE(got.ok()) << got.status();
      absl::StatusOr<Extraction> conv = ConvOf(input);
      ASSERT_TRUE(conv.ok()) << conv.status();
      const at::Tensor c = conv->activations.at("conv");
      const bool positive = c.sum().item<float>() > 0;
      branches_taken.push_back(positive);
      const at::Tensor branch = positive ? c.relu() : c.tanh();
      const std::string ran = positive ? "relu" : "tanh";
      EXPECT_THAT(Keys(got->activations), ElementsAre("conv", ran, "mul"));
      EXPECT_TRUE(torch::allclose(got->activations.at(ran), branch));
      EXPECT_TRUE(torch::allclose(got->activations.at("mul"), branch * 0.125));
      if (GetParam() == Mode::kTap) {
        torch::NoGradGuard no_grad;
        EXPECT_TRUE(got->model_output.toTensor().equal(plain_.forward({input}).toTensor()));
      }
    }
    // Both branches were exercised.
    EXPECT_THAT(branches_taken, ElementsAre(true, false));
  }

  // The conv node's output on `input`, from a separate dict extractor.
  absl::StatusOr<Extraction> ConvOf(const at::Tensor& input) {
    OutputManifest manifest;
    absl::StatusOr<torch::jit::Module> conv = CreateFeatureExtractor(plain_, {.return_nodes = {"conv"}}, &manifest);
    if (!conv.ok()) return conv.status();
    return RunExtractor(*conv, manifest, {input});
  }

  testing::ReferenceModel ref_;
  torch::jit::Module plain_;
  std::vector<at::Tensor> inputs_;
};

TEST_P(ControlFlowTest, BranchNodesAreEmittedWhenTheirBranchRanAndLoopNodesWithTheLastIteration) {
  ExpectBranchValues({"conv", "relu", "tanh", "mul"});
}

INSTANTIATE_TEST_SUITE_P(DictAndTap, ControlFlowTest, ::testing::Values(Mode::kDict, Mode::kTap),
                         [](const auto& info) { return std::string(ModeName(info.param)); });

}  // namespace
}  // namespace featx
