// The C entry points as a dlopen host calls them: statuses and messages, never
// exceptions; a log callback receives featx's warnings; the model is
// unchanged after an error.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "plugin/c_api.h"
#include "tests/testing/reference_models.h"

namespace {

using ::testing::HasSubstr;

void Collect(int level, const char* message, void* user_data) {
  static_cast<std::vector<std::string>*>(user_data)->push_back(std::to_string(level) + " " + message);
}

TEST(CApi, ErrorsComeBackAsStatusAndMessage) {
  char error[256] = "";
  EXPECT_EQ(featx_instrument(nullptr, "", error, sizeof error), 3);
  EXPECT_THAT(std::string(error), HasSubstr("module is NULL"));
  EXPECT_EQ(featx_capture_end(nullptr, error, sizeof error), 9);  // FailedPrecondition
  EXPECT_THAT(std::string(error), HasSubstr("no capture is open"));
  char tiny[8];
  EXPECT_EQ(featx_instrument(nullptr, "", tiny, sizeof tiny), 3);
  EXPECT_EQ(std::string(tiny), "featx_i");  // cut, still terminated
}

TEST(CApi, BadFlagsLeaveTheModelUnchanged) {
  absl::StatusOr<featx::testing::ReferenceModel> ref = featx::testing::LoadReferenceModel("train_eval_branch");
  ASSERT_TRUE(ref.ok());
  const std::string before = ref->module.get_method("forward").graph()->toString();
  char error[512];
  EXPECT_EQ(featx_instrument(&ref->module, "--featx_return_nodes=head --featx_mode=tupel", error, sizeof error), 3);
  EXPECT_THAT(std::string(error), HasSubstr("did you mean 'tuple'"));
  EXPECT_EQ(featx_instrument(&ref->module, "--featx_return_nodes=haed", error, sizeof error), 3);
  EXPECT_THAT(std::string(error), HasSubstr("did you mean 'add' or 'head'"));
  EXPECT_EQ(ref->module.get_method("forward").graph()->toString(), before);
}

TEST(CApi, LogCallbackReceivesTheTrainEvalWarningAndCaptureWorks) {
  absl::StatusOr<featx::testing::ReferenceModel> ref = featx::testing::LoadReferenceModel("train_eval_branch");
  ASSERT_TRUE(ref.ok());
  std::vector<std::string> logged;
  featx_set_log_callback(&Collect, &logged);
  char error[512];
  const int status =
      featx_instrument(&ref->module, "--featx_mode=tap --featx_return_nodes=conv,head:logits", error, sizeof error);
  featx_set_log_callback(nullptr, nullptr);
  ASSERT_EQ(status, 0) << error;
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_THAT(logged[0], HasSubstr("1 The nodes obtained by tracing the model in train mode are different"));

  ref->module.eval();
  torch::NoGradGuard no_grad;
  ASSERT_EQ(featx_capture_begin(error, sizeof error), 0);
  ref->module.forward({ref->input});
  c10::Dict<std::string, at::Tensor> captured;
  ASSERT_EQ(featx_capture_end(&captured, error, sizeof error), 0) << error;
  ASSERT_EQ(captured.size(), 2u);
  EXPECT_TRUE(torch::allclose(captured.at("conv"), ref->values.at("conv"), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(captured.at("logits"), ref->values.at("head"), 1e-4, 1e-5));
}

}  // namespace
