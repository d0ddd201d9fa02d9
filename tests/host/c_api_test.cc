// The C entry points as a dlopen host calls them: statuses and messages, never
// exceptions; a log callback receives featx's warnings; the model is
// unchanged after an error.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
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

TEST(CApi, FlagsHelpListsEveryFlagWithItsDefaultWrappedForAUsageText) {
  const size_t length = featx_flags_help(nullptr, 0);
  std::string help(length, '\0');
  ASSERT_EQ(featx_flags_help(help.data(), length + 1), length);
  for (const char* flag : {"featx_return_nodes", "featx_train_return_nodes", "featx_eval_return_nodes", "featx_mode",
                           "featx_leaf_modules", "featx_suppress_diff_warning", "featx_passes", "featx_executor_hook",
                           "featx_spool_dir", "featx_spool_max_files", "featx_log_activations"}) {
    EXPECT_THAT(help, HasSubstr(std::string("    --") + flag + " (")) << flag;
  }
  EXPECT_THAT(help, HasSubstr("default: tap;"));
  EXPECT_THAT(help, HasSubstr("default: 100;"));
  for (absl::string_view line : absl::StrSplit(help, '\n')) EXPECT_LE(line.size(), 80u) << line;
  char tiny[8];
  EXPECT_EQ(featx_flags_help(tiny, sizeof tiny), length);
  EXPECT_EQ(std::string(tiny), "    --f");
}

TEST(CApi, ListedPassesRunByNameAndAPipelineOutOfOrderIsRefused) {
  const size_t length = featx_list_passes(nullptr, 0);
  std::string names(length, '\0');
  ASSERT_EQ(featx_list_passes(names.data(), length + 1), length);
  EXPECT_THAT(names, HasSubstr("featx.inline_non_leaf,featx.fold_module_attributes,"));
  char tiny[6];
  EXPECT_EQ(featx_list_passes(tiny, sizeof tiny), length);
  EXPECT_EQ(std::string(tiny), "featx");

  absl::StatusOr<featx::testing::ReferenceModel> ref = featx::testing::LoadReferenceModel("train_eval_branch");
  ASSERT_TRUE(ref.ok());
  const std::string before = ref->module.get_method("forward").graph()->toString();
  char error[512];
  // Without featx.warn_graph_differences and featx.protect_aliases: a host's
  // own choice, run in its order.
  const std::string own =
      "--featx_mode=dict --featx_return_nodes=conv --featx_passes=featx.inline_non_leaf,"
      "featx.fold_module_attributes,featx.specialize_training,featx.name_nodes,featx.choose_outputs,"
      "featx.return_dict,featx.prune,featx.merge_train_eval";
  std::vector<std::string> logged;
  featx_set_log_callback(&Collect, &logged);
  const int status = featx_instrument(&ref->module, own.c_str(), error, sizeof error);
  featx_set_log_callback(nullptr, nullptr);
  ASSERT_EQ(status, 0) << error;
  EXPECT_TRUE(logged.empty()) << logged[0];  // no warning pass, no warning
  ref->module.eval();
  torch::NoGradGuard no_grad;
  c10::impl::GenericDict out = ref->module.forward({ref->input}).toGenericDict();
  EXPECT_TRUE(out.at("conv").toTensor().equal(ref->values.at("conv")));

  absl::StatusOr<featx::testing::ReferenceModel> fresh = featx::testing::LoadReferenceModel("train_eval_branch");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(featx_instrument(&fresh->module, "--featx_return_nodes=conv --featx_passes=featx.name_nodes", error,
                             sizeof error),
            9);  // FailedPrecondition
  EXPECT_THAT(std::string(error), HasSubstr("run featx.specialize_training first"));
  EXPECT_EQ(fresh->module.get_method("forward").graph()->toString(), before);
}

// A host frees its user_data after unsetting the callback; a callback still
// running on another thread must not be left with it.
TEST(CApi, UnsettingTheLogCallbackWaitsForRunningCalls) {
  struct Slow {
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
  } slow;
  featx_set_log_callback(
      [](int, const char*, void* data) {
        auto* s = static_cast<Slow*>(data);
        s->started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        s->finished = true;
      },
      &slow);
  std::thread request([] {
    absl::StatusOr<featx::testing::ReferenceModel> ref = featx::testing::LoadReferenceModel("train_eval_branch");
    char error[512];
    featx_instrument(&ref->module, "--featx_mode=tap --featx_return_nodes=conv", error, sizeof error);  // warns
  });
  while (!slow.started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  featx_set_log_callback(nullptr, nullptr);
  EXPECT_TRUE(slow.finished) << "featx_set_log_callback returned while the old callback was running";
  request.join();
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
