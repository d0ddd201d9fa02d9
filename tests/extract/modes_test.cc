// The three rewrite modes (dict, tuple, tap) against torchvision's
// create_feature_extractor on the same models and inputs, and what each mode
// promises besides the values: the model's own output, the manifest, the
// capture, control flow.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>
#include <nlohmann/json.hpp>

#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/mode_values.h"
#include "tests/testing/options.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using testing::Quiet;
using testing::WithLeaves;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using torch::jit::testing::FileCheck;

using testing::ExpectSameValue;
using testing::Keys;
using testing::PlainForward;
using testing::RewriteAndRun;

std::string ModeParamName(Mode mode) { return std::string(ModeName(mode)); }

class ModeValuesTest : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {};

// The dozen sampled nodes of each model (every node of the small ones), as
// torchvision's extractor computes them with a clone right at each node; in
// tuple and tap mode the model's own output is what it was.
TEST_P(ModeValuesTest, ValuesEqualTorchvisionsAtTheirNodes) {
  const auto& [model, mode] = GetParam();
  testing::ReferenceModel ref = testing::MustLoadReferenceModel(model);
  testing::ExpectModeValuesEqualTorchvisions(ref, mode);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, ModeValuesTest,
                         ::testing::Combine(::testing::ValuesIn(testing::FxTraceableReferenceModels()),
                                            ::testing::Values(Mode::kDict, Mode::kTuple, Mode::kTap)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + ModeParamName(std::get<1>(info.param));
                         });

class InPlaceTest : public ::testing::TestWithParam<Mode> {};

// torchvision returns layer1.0.bn1 after the in-place ReLU overwrote it; every
// featx mode emits it as it was at its node.
TEST_P(InPlaceTest, OverwrittenValuesAreEmittedAsTheyWereAtTheirNode) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  Extraction got =
      RewriteAndRun(ref.module, {.return_nodes = {"layer1.0.bn1", "layer1.0.conv1", "fc"}}, GetParam(), ref.input);
  EXPECT_TRUE(torch::allclose(got.activations.at("layer1.0.bn1"), ref.values.at("layer1.0.bn1"), 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(got.activations.at("layer1.0.bn1"), ref.raw_values.at("layer1.0.bn1"), 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(AllModes, InPlaceTest, ::testing::Values(Mode::kDict, Mode::kTuple, Mode::kTap),
                         [](const auto& info) { return ModeParamName(info.param); });

// Only the overwritten value is protected: one clone in the graph (dict,
// tuple), or one copying tap, which copies only while a capture is open.
TEST(InPlace, OnlyValuesWrittenLaterAreProtected) {
  for (Mode mode : {Mode::kDict, Mode::kTuple}) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
    ASSERT_TRUE(InstrumentInPlace(ref.module, {.return_nodes = {"layer1.0.bn1", "layer1.0.conv1"}, .mode = mode}).ok());
    FileCheck().check_count("aten::clone", 1, /*exactly=*/true)->run(*ref.module.get_method("forward").graph());
  }
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  ASSERT_TRUE(
      InstrumentInPlace(ref.module, {.return_nodes = {"layer1.0.bn1", "layer1.0.conv1"}, .mode = Mode::kTap}).ok());
  FileCheck()
      .check_count("featx::tap", 2, /*exactly=*/true)
      ->check_not("aten::clone")
      ->run(*ref.module.get_method("forward").graph());
  std::map<std::string, size_t> tap_arity;  // tag -> inputs: 3 for featx::tap.copy
  for (const torch::jit::Node* n : ref.module.get_method("forward").graph()->nodes()) {
    if (n->kind().toQualString() == std::string("featx::tap")) {
      tap_arity[*torch::jit::constant_as<std::string>(n->input(1))] = n->inputs().size();
    }
  }
  EXPECT_EQ(tap_arity, (std::map<std::string, size_t>{{"layer1.0.bn1", 3}, {"layer1.0.conv1", 2}}));
}

// Triton's PyTorch backend wants a flat tuple of tensors: the model's own
// outputs (here a tuple of two heads) come first, then the chosen nodes in
// graph order, and the manifest names every slot.
TEST(TupleMode, ReturnsTheModelsOutputsThenTheChosenNodesAsOneFlatTuple) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("tuple_output");
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  OutputManifest manifest;
  Extraction got =
      RewriteAndRun(ref.module, {.return_nodes = {"flatten:embedding", "trunk"}}, Mode::kTuple, ref.input, &manifest);
  c10::IValue out = PlainForward(ref.module, ref.input);
  ASSERT_TRUE(out.isTuple());
  ASSERT_EQ(out.toTupleRef().elements().size(), 4);
  for (const c10::IValue& item : out.toTupleRef().elements()) EXPECT_TRUE(item.isTensor());
  ExpectSameValue(got.model_output, plain);
  EXPECT_TRUE(torch::allclose(got.activations.at("trunk"), ref.values.at("trunk"), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(got.activations.at("embedding"), ref.values.at("flatten"), 1e-4, 1e-5));

  nlohmann::json json = nlohmann::json::parse(ManifestJson(manifest));
  EXPECT_EQ(json["mode"], "tuple");
  std::vector<std::string> names, triton_names, nodes;
  for (const auto& slot : json["eval"]) {
    names.push_back(slot["name"]);
    triton_names.push_back(slot["triton_name"]);
    nodes.push_back(slot["node"]);
  }
  EXPECT_THAT(names, ElementsAre("output.0", "output.1", "trunk", "embedding"));
  EXPECT_THAT(triton_names, ElementsAre("OUTPUT__0", "OUTPUT__1", "OUTPUT__2", "OUTPUT__3"));
  EXPECT_THAT(nodes, ElementsAre("output", "output", "trunk", "flatten"));
  EXPECT_EQ(json["train"], json["eval"]);
}

TEST(TupleMode, TrainAndEvalChoicesOfOneLengthFollowTheModulesMode) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("train_eval_branch");
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  ASSERT_TRUE(InstrumentInPlace(ref.module, Quiet({.train_return_nodes = {"mul", "head:h"},
                                                   .eval_return_nodes = {"sigmoid", "head:h"},
                                                   .mode = Mode::kTuple}))
                  .ok());
  ref.module.eval();
  c10::IValue out = PlainForward(ref.module, ref.input);
  ASSERT_EQ(out.toTupleRef().elements().size(), 3);
  ExpectSameValue(out.toTupleRef().elements()[0], plain);
  EXPECT_TRUE(torch::allclose(out.toTupleRef().elements()[1].toTensor(), ref.values.at("sigmoid"), 1e-4, 1e-5));
  ref.module.train();
  out = PlainForward(ref.module, ref.input);
  ASSERT_EQ(out.toTupleRef().elements().size(), 3);
  // conv * 0.5 in train mode: different from eval's sigmoid.
  EXPECT_FALSE(out.toTupleRef().elements()[1].toTensor().equal(ref.values.at("sigmoid")));
}

TEST(TupleMode, SavedModelLoadsAndRunsWithItsOwnOutputFirst) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("mobilenet_v3_small");
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  ASSERT_TRUE(InstrumentInPlace(ref.module, {.return_nodes = {"features.3"}, .mode = Mode::kTuple}).ok());
  std::stringstream archive;
  ref.module.save(archive);
  torch::jit::Module loaded = torch::jit::load(archive);
  c10::IValue out = PlainForward(loaded, ref.input);
  ASSERT_EQ(out.toTupleRef().elements().size(), 2);
  ExpectSameValue(out.toTupleRef().elements()[0], plain);
}

// A server's response does not change; the capture around the request holds
// exactly the chosen activations, under their output names.
TEST(TapMode, OutputIsUnchangedAndTheCaptureHoldsExactlyTheChosenNodes) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  ASSERT_TRUE(
      InstrumentInPlace(ref.module, {.return_nodes = {"layer2:feat2", "layer1.0.bn1", "x"}, .mode = Mode::kTap}).ok());
  torch::NoGradGuard no_grad;
  Capture capture;
  c10::IValue out = ref.module.forward({ref.input.clone()});
  EXPECT_TRUE(out.toTensor().equal(plain.toTensor()));
  EXPECT_THAT(Keys(capture.activations()), ElementsAre("x", "layer1.0.bn1", "feat2"));
  EXPECT_TRUE(capture.activations().at("x").equal(ref.input));
  EXPECT_TRUE(torch::allclose(capture.activations().at("layer1.0.bn1"), ref.values.at("layer1.0.bn1"), 1e-4, 1e-5));
}

TEST(TapMode, NothingIsRecordedWithoutACapture) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  ASSERT_TRUE(InstrumentInPlace(ref.module, {.return_nodes = {"bn", "add_", "relu_"}, .mode = Mode::kTap}).ok());
  torch::NoGradGuard no_grad;
  ref.module.forward({ref.input.clone()});
  Capture later;
  EXPECT_EQ(later.activations().size(), 0);
}

// An in-place op whose own output nothing reads (`out.mul_(2.0)` as a
// statement): its tap reads the tensor it wrote, and stays live.
TEST(TapMode, InPlaceStatementsAreObserved) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("inplace_chain");
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  Extraction got = RewriteAndRun(ref.module, {.return_nodes = {"mul_", "add_"}}, Mode::kTap, ref.input);
  EXPECT_TRUE(got.model_output.toTensor().equal(plain.toTensor()));
  EXPECT_TRUE(torch::allclose(got.activations.at("mul_"), ref.values.at("mul_"), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(got.activations.at("add_"), ref.values.at("add_"), 1e-4, 1e-5));
}

TEST(Modes, NamesParseWithSuggestions) {
  EXPECT_EQ(*ParseMode("tap"), Mode::kTap);
  absl::StatusOr<Mode> bad = ParseMode("tupel");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("did you mean 'tuple'"));
}

}  // namespace
}  // namespace featx
