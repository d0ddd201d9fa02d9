// featx::GetGraphNodeNames as users call it: warnings through the host's
// handler, leaf modules, errors, and the module left as it was.
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugin/featx.h"
#include "plugin/torch_compat.h"
#include "tests/testing/reference_models.h"
#include "tools/default_model.h"

namespace featx {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// Collects warnings, as a host's own c10::WarningHandler would log them.
class RecordingHandler : public compat::WarningHandler {
 public:
  void Handle(const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

TEST(GetGraphNodeNames, RepeatedOpsAndModulesGetLocalSuffixes) {
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(testing::MustLoadReferenceModel("golden").module);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->eval, ElementsAre("x", "submodule.add", "submodule.add_1", "submodule.relu", "submodule.relu_1",
                                       "add", "add_1", "relu", "relu_1"));
}

TEST(GetGraphNodeNames, TrainingBranchWarnsThroughTheHostsHandler) {
  RecordingHandler handler;
  compat::WarningHandlerGuard guard(&handler);
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(testing::MustLoadReferenceModel("train_eval_branch").module);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->train, ElementsAre("x", "conv", "mul", "add", "mean", "dropout", "head"));
  EXPECT_THAT(names->eval, ElementsAre("x", "conv", "sigmoid", "mean", "dropout", "head"));
  ASSERT_EQ(handler.messages.size(), 1);
  EXPECT_EQ(handler.messages[0],
            "The nodes obtained by tracing the model in train mode are different to those obtained in eval mode. "
            "When choosing nodes for feature extraction, you may need to specify output nodes for train and eval "
            "mode separately. First difference at node 2: train has 'mul', eval has 'sigmoid'.");
}

TEST(GetGraphNodeNames, SuppressDiffWarningSilencesIt) {
  RecordingHandler handler;
  compat::WarningHandlerGuard guard(&handler);
  ASSERT_TRUE(
      GetGraphNodeNames(testing::MustLoadReferenceModel("train_eval_branch").module, {.suppress_diff_warning = true})
          .ok());
  EXPECT_THAT(handler.messages, IsEmpty());
}

TEST(GetGraphNodeNames, EqualTrainAndEvalNamesDoNotWarn) {
  RecordingHandler handler;
  compat::WarningHandlerGuard guard(&handler);
  ASSERT_TRUE(GetGraphNodeNames(testing::MustLoadReferenceModel("resnet18").module).ok());
  EXPECT_THAT(handler.messages, IsEmpty());
}

TEST(GetGraphNodeNames, UserLeafModuleIsOneNode) {
  testing::ReferenceModel nested = testing::MustLoadReferenceModel("nested");
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(nested.module, {.leaf_modules = {"Inner"}});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->eval, AllOf(Contains("middle.inner"), Contains("middle.blocks.0"), Contains("tail.0.inner")));
  EXPECT_THAT(names->eval, Not(Contains(StartsWith("middle.inner."))));
  // A qualified class name says the same.
  absl::StatusOr<NodeNames> qualified = GetGraphNodeNames(nested.module, {.leaf_modules = {"handwritten.Inner"}});
  ASSERT_TRUE(qualified.ok()) << qualified.status();
  EXPECT_EQ(qualified->eval, names->eval);
}

TEST(GetGraphNodeNames, UnknownLeafModuleIsAnErrorWithSuggestions) {
  absl::StatusOr<NodeNames> names =
      GetGraphNodeNames(testing::MustLoadReferenceModel("nested").module, {.leaf_modules = {"Innr"}});
  ASSERT_EQ(names.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(names.status().message()),
              AllOf(HasSubstr("leaf module class 'Innr' is not a module class of this model"),
                    HasSubstr("did you mean 'Inner'")));
}

TEST(GetGraphNodeNames, ModuleWithoutForwardIsAnError) {
  torch::jit::Module m("__torch__.featx_test.NoForward");
  m.define("def other(self, x: Tensor) -> Tensor:\n  return x\n");
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(m);
  ASSERT_EQ(names.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(names.status().message()), HasSubstr("featx_test.NoForward has no forward method"));
}

TEST(GetGraphNodeNames, LeavesTheModuleAsItWas) {
  testing::ReferenceModel resnet = testing::MustLoadReferenceModel("resnet18");
  resnet.module.train();
  const std::string before = resnet.module.get_method("forward").graph()->toString();
  ASSERT_TRUE(GetGraphNodeNames(resnet.module).ok());
  EXPECT_EQ(resnet.module.get_method("forward").graph()->toString(), before);
  EXPECT_TRUE(resnet.module.is_training());
  EXPECT_TRUE(resnet.module.attr("layer1").toModule().is_training());
}

// The embedded default model is built in C++ (no archive, no Python): its
// TorchScript source is the one featx reads spellings from.
TEST(GetGraphNodeNames, DefaultModelIsNamedLikeResNet) {
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(MakeDefaultModel());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(std::vector<std::string>(names->eval.begin(), names->eval.begin() + 12),
              ElementsAre("x", "conv1", "bn1", "relu", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu",
                          "layer1.0.conv2", "layer1.0.bn2", "layer1.0.add", "layer1.0.relu_1", "layer1.1.conv1"));
  EXPECT_THAT(names->eval, AllOf(Contains("layer2.0.downsample.0"), Contains("flatten")));
  EXPECT_EQ(names->eval.back(), "fc");
  EXPECT_EQ(names->train, names->eval);
}

}  // namespace
}  // namespace featx
