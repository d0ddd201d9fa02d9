// Models saved by the other torch version, named, rewritten and served by
// featx built against this one: a model scripted and saved by torch 1.13
// reaches a featx built against 2.x (and the other way round), and a server
// loading it must get torchvision's names and values all the same.
//
// tests/models/cross/ (FEATX_TEST_MODEL_DIR) holds the models the other
// version's Python saved, with that version's torchvision answers.
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/capture.h"
#include "plugin/c_api.h"
#include "plugin/featx.h"
#include "tests/testing/mode_values.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using ::testing::ElementsAreArray;
using testing::Keys;

class CrossVersionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CrossVersionTest, NamesEqualTheSavingTorchvisions) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(GetParam());
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(ref.module, {.suppress_diff_warning = true});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->train, ElementsAreArray(ref.train_names));
  EXPECT_THAT(names->eval, ElementsAreArray(ref.eval_names));
}

// What a server does at load time: featx_instrument (the C entry point)
// with flags, then a capture around each request.
TEST_P(CrossVersionTest, ServedInTapModeThroughTheCEntryPoints) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(GetParam());
  const c10::IValue plain = testing::PlainForward(ref.module, ref.input);
  const std::vector<std::string> train_choice = testing::TrainChoice(ref);
  const std::string flags = absl::StrCat(
      "--featx_mode=tap --featx_suppress_diff_warning --featx_eval_return_nodes=", absl::StrJoin(Keys(ref.values), ","),
      " --featx_train_return_nodes=", absl::StrJoin(train_choice, ","));
  char error[2048] = "";
  ASSERT_EQ(featx_instrument(&ref.module, flags.c_str(), error, sizeof error), 0) << error;

  ASSERT_EQ(featx_capture_begin(error, sizeof error), 0) << error;
  const c10::IValue out = testing::PlainForward(ref.module, ref.input);
  c10::Dict<std::string, at::Tensor> captured;
  ASSERT_EQ(featx_capture_end(&captured, error, sizeof error), 0) << error;

  testing::ExpectSameValue(out, plain);
  ASSERT_EQ(Keys(captured), Keys(ref.values));
  for (const auto& item : ref.values) {
    EXPECT_TRUE(testing::CloseToReference(captured.at(item.key()), item.value())) << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(SavedByTheOtherTorch, CrossVersionTest,
                         ::testing::ValuesIn(testing::FxTraceableReferenceModels()),
                         [](const auto& info) { return info.param; });

class CrossVersionModesTest : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {};

TEST_P(CrossVersionModesTest, ValuesEqualTheSavingTorchvisionsAtTheirNodes) {
  const auto& [model, mode] = GetParam();
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(model);
  testing::ExpectModeValuesEqualTorchvisions(ref, mode);
}

INSTANTIATE_TEST_SUITE_P(SavedByTheOtherTorch, CrossVersionModesTest,
                         ::testing::Combine(::testing::ValuesIn(testing::FxTraceableReferenceModels()),
                                            ::testing::Values(Mode::kDict, Mode::kTuple, Mode::kTap)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::string(ModeName(std::get<1>(info.param)));
                         });

// Every model the other torch saved loads and runs here, FX-traceable or not.
TEST(CrossVersion, EveryModelLoadsAndRuns) {
  const std::vector<std::string> models = testing::AvailableReferenceModels();
  ASSERT_GE(models.size(), 20) << "tests/models/cross/ is incomplete";
  for (const std::string& name : models) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel(name);
    EXPECT_NO_THROW(testing::PlainForward(ref.module, ref.input)) << name;
  }
}

}  // namespace
}  // namespace featx
