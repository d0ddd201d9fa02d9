// The test models and torchvision's answers, as later tests will read them:
// every model loads in C++ and runs on its input, and the reference files
// agree with the scripted model they describe.
#include "tests/testing/reference_models.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "plugin/torch_compat.h"

namespace featx::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Models FX cannot trace, and what it says. FX in 1.13 cannot iterate a
// Proxy on Python 3.11 (shufflenet's `x1, x2 = x.chunk(2, dim=1)`); FX in
// torch 2.x records a getitem per element.
const std::map<std::string, std::string> kUntraceable = [] {
  std::map<std::string, std::string> untraceable = {{"control_flow", "cannot be used as inputs to control flow"}};
  if (!FEATX_TORCH_AT_LEAST(2, 0)) untraceable["shufflenet_v2_x0_5"] = "Proxy object cannot be iterated";
  return untraceable;
}();

std::vector<at::Tensor> OutputTensors(const c10::IValue& out) {
  if (out.isTensor()) return {out.toTensor().is_quantized() ? out.toTensor().dequantize() : out.toTensor()};
  std::vector<at::Tensor> tensors;
  if (out.isGenericDict()) {  // segmentation models, FPN backbones: {name: Tensor}
    for (const auto& item : out.toGenericDict()) tensors.push_back(item.value().toTensor());
    return tensors;
  }
  for (const c10::IValue& element : out.toTupleRef().elements()) {
    if (element.isTensor()) tensors.push_back(element.toTensor());  // googlenet's eval outputs hold Nones
  }
  return tensors;
}

class ReferenceModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<ReferenceModel> ref = LoadReferenceModel(GetParam());
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = *std::move(ref);
  }
  ReferenceModel ref_;
};

TEST_P(ReferenceModelTest, RunsOnItsInputInEvalMode) {
  EXPECT_FALSE(ref_.module.is_training());
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> outputs = OutputTensors(ref_.module.forward({ref_.input}));
  ASSERT_FALSE(outputs.empty());
  for (const at::Tensor& t : outputs) EXPECT_TRUE(t.isfinite().all().item<bool>());
}

TEST_P(ReferenceModelTest, NamesStartWithTheInputOrSayWhyNot) {
  if (ref_.trace_error) {
    ASSERT_TRUE(kUntraceable.count(ref_.name)) << "FX failed unexpectedly: " << *ref_.trace_error;
    EXPECT_THAT(*ref_.trace_error, HasSubstr(kUntraceable.at(ref_.name)));
    return;
  }
  EXPECT_FALSE(kUntraceable.count(ref_.name)) << "FX traced a model the test thinks it cannot";
  ASSERT_FALSE(ref_.eval_names.empty());
  // forward's argument: `x` mostly, `input` in torchvision's segmentation models.
  const std::string input = ref_.module.get_method("forward").function().getSchema().arguments().at(1).name();
  EXPECT_EQ(ref_.train_names.front(), input);
  EXPECT_EQ(ref_.eval_names.front(), input);
}

TEST_P(ReferenceModelTest, ValuesAreForEvalNodesAndStartWithTheInput) {
  if (ref_.trace_error) return;
  ASSERT_GE(ref_.values.size(), 4);
  EXPECT_EQ(ref_.values.size(), ref_.raw_values.size());
  for (const auto& item : ref_.values) {
    EXPECT_NE(std::find(ref_.eval_names.begin(), ref_.eval_names.end(), item.key()), ref_.eval_names.end())
        << item.key();
  }
  EXPECT_TRUE(ref_.values.at(ref_.eval_names.front()).equal(ref_.input));
}

// The scripted model and the eager model torchvision traced compute the same
// thing: the last named node's value is one of the model's outputs (the last
// one, but for a dict built out of order: an FPN's coarsest level comes last
// in execution and its finest is filled in last).
TEST_P(ReferenceModelTest, LastNodeValueIsTheScriptedModelsOutput) {
  if (ref_.trace_error) return;
  const std::string& last = ref_.eval_names.back();
  torch::NoGradGuard no_grad;
  if (!ref_.values.contains(last)) {
    // A leaf that returns a dict (an FPN backbone's `fpn`): no tensor to
    // sample; the model answers that dict.
    EXPECT_TRUE(ref_.module.forward({ref_.input}).isGenericDict()) << last;
    return;
  }
  const at::Tensor want =
      ref_.values.at(last).is_quantized() ? ref_.values.at(last).dequantize() : ref_.values.at(last);
  bool found = false;
  for (const at::Tensor& output : OutputTensors(ref_.module.forward({ref_.input}))) {
    found |= output.sizes() == want.sizes() && torch::allclose(output, want, /*rtol=*/1e-4, /*atol=*/1e-5);
  }
  EXPECT_TRUE(found) << last;
}

INSTANTIATE_TEST_SUITE_P(AllModels, ReferenceModelTest, ::testing::ValuesIn(AvailableReferenceModels()),
                         [](const auto& info) { return info.param; });

TEST(ReferenceModels, TheBuildMadeEveryModel) {
  // 13 torchvision models, 9 of other families and 12 hand-written ones (tests/models/BUILD.bazel).
  EXPECT_EQ(AvailableReferenceModels().size(), 34);
}

TEST(ReferenceModels, GoldenNamesAreTorchvisionsOwnTestCase) {
  absl::StatusOr<ReferenceModel> ref = LoadReferenceModel("golden");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(ref->eval_names, ElementsAre("x", "submodule.add", "submodule.add_1", "submodule.relu",
                                           "submodule.relu_1", "add", "add_1", "relu", "relu_1"));
  EXPECT_EQ(ref->train_names, ref->eval_names);
}

TEST(ReferenceModels, TrainAndEvalNamesDifferWhereTheModelBranchesOnTraining) {
  absl::StatusOr<ReferenceModel> ref = LoadReferenceModel("train_eval_branch");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(ref->train_names, ElementsAre("x", "conv", "mul", "add", "mean", "dropout", "head"));
  EXPECT_THAT(ref->eval_names, ElementsAre("x", "conv", "sigmoid", "mean", "dropout", "head"));
}

// torchvision returns resnet18's layer1.0.bn1 after the in-place ReLU that
// follows it has overwritten it; the cloned reference keeps the value at bn1.
TEST(ReferenceModels, ClonedValueKeepsWhatTheInPlaceReluOverwrote) {
  absl::StatusOr<ReferenceModel> ref = LoadReferenceModel("resnet18");
  ASSERT_TRUE(ref.ok()) << ref.status();
  const at::Tensor at_node = ref->values.at("layer1.0.bn1");
  const at::Tensor returned = ref->raw_values.at("layer1.0.bn1");
  EXPECT_LT(at_node.min().item<float>(), 0.0f) << "a batch norm output has negative values";
  EXPECT_GE(returned.min().item<float>(), 0.0f) << "torchvision's value went through the ReLU";
  EXPECT_TRUE(returned.equal(at_node.clamp_min(0)));
}

}  // namespace
}  // namespace featx::testing
