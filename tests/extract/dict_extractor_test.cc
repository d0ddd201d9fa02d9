// CreateFeatureExtractor in dict mode against torchvision's
// create_feature_extractor, on the same models and inputs.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/testing/file_check.h>
#include <torch/script.h>

#include "plugin/featx.h"
#include "tests/testing/options.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using testing::Quiet;
using testing::WithLeaves;

using ::testing::HasSubstr;
using torch::jit::testing::FileCheck;

using testing::Keys;

c10::Dict<std::string, at::Tensor> Forward(torch::jit::Module& m, const at::Tensor& input) {
  torch::NoGradGuard no_grad;
  c10::impl::GenericDict out = m.forward({input.clone()}).toGenericDict();
  c10::Dict<std::string, at::Tensor> typed;
  for (const auto& item : out) typed.insert(item.key().toStringRef(), item.value().toTensor());
  return typed;
}

TEST(DictExtractor, GraphIsPrunedAfterTheLastChosenNode) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  absl::StatusOr<torch::jit::Module> extractor = CreateFeatureExtractor(ref.module, {.return_nodes = {"layer1:feat"}});
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  std::shared_ptr<torch::jit::Graph> graph = extractor->get_method("forward").graph();
  FileCheck()
      .check("prim::DictConstruct")
      ->check("prim::GetAttr[name=\"layer1\"]")
      ->check("aten::_set_item")
      ->check_next("return")
      ->run(*graph);
  int module_calls = 0;
  for (const torch::jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::prim::GetAttr) {
      EXPECT_NE(n->s(c10::attr::name), "layer2");
      EXPECT_NE(n->s(c10::attr::name), "fc");
    }
    module_calls += n->kind() == c10::prim::CallMethod;
  }
  // conv1, bn1, relu, maxpool, layer1.0 as the one call it was (nothing in
  // it is chosen), and layer1.1's 6 leaf calls (relu twice), whose last is
  // the chosen node: nothing after layer1 survives.
  EXPECT_EQ(module_calls, 4 + 1 + 6);
  c10::Dict<std::string, at::Tensor> got = Forward(*extractor, ref.input);
  EXPECT_EQ(Keys(got), std::vector<std::string>{"feat"});
  EXPECT_EQ(got.at("feat").sizes(), (std::vector<int64_t>{1, 64, 16, 16}));
}

// shufflenet's `x1, x2 = x.chunk(2, dim=1)`: FX 2.x names the halves
// getitem and getitem_1, and each is a node to extract like any other (here
// compared with the halves of the block's input, stage2.0's output).
TEST(DictExtractor, EachElementOfAnUnpackedChunkIsANode) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("shufflenet_v2_x0_5");
  absl::StatusOr<torch::jit::Module> extractor = CreateFeatureExtractor(
      ref.module, {.return_nodes = {"stage2.0:block_input", "stage2.1.getitem:x1", "stage2.1.getitem_1:x2"}});
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  c10::Dict<std::string, at::Tensor> got = Forward(*extractor, ref.input);
  ASSERT_EQ(Keys(got), (std::vector<std::string>{"block_input", "x1", "x2"}));
  std::vector<at::Tensor> halves = got.at("block_input").chunk(2, /*dim=*/1);
  EXPECT_TRUE(got.at("x1").equal(halves[0]));
  EXPECT_TRUE(got.at("x2").equal(halves[1]));
}

TEST(DictExtractor, TrainAndEvalChoicesFollowTheModulesMode) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("train_eval_branch");
  absl::StatusOr<torch::jit::Module> extractor =
      CreateFeatureExtractor(ref.module, Quiet({.train_return_nodes = {"mul"}, .eval_return_nodes = {"sigmoid"}}));
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  extractor->eval();
  EXPECT_EQ(Keys(Forward(*extractor, ref.input)), std::vector<std::string>{"sigmoid"});
  EXPECT_TRUE(Forward(*extractor, ref.input).at("sigmoid").equal(ref.values.at("sigmoid")));
  extractor->train();
  EXPECT_EQ(Keys(Forward(*extractor, ref.input)), std::vector<std::string>{"mul"});
}

TEST(DictExtractor, TheOriginalModuleIsUnchanged) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  const std::string before = ref.module.get_method("forward").graph()->toString();
  ASSERT_TRUE(CreateFeatureExtractor(ref.module, {.return_nodes = {"layer2"}}).ok());
  EXPECT_EQ(ref.module.get_method("forward").graph()->toString(), before);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(ref.module.forward({ref.input}).toTensor().equal(ref.values.at("fc")));
}

TEST(DictExtractor, InstrumentInPlaceRewritesTheGivenModule) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  ASSERT_TRUE(InstrumentInPlace(ref.module, {.return_nodes = {"layer1.0.bn1", "fc:logits"}}).ok());
  c10::Dict<std::string, at::Tensor> got = Forward(ref.module, ref.input);
  EXPECT_EQ(Keys(got), (std::vector<std::string>{"layer1.0.bn1", "logits"}));
  EXPECT_TRUE(torch::allclose(got.at("logits"), ref.values.at("fc"), 1e-4, 1e-5));
}

TEST(DictExtractor, SavedExtractorLoadsAndRuns) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("mobilenet_v3_small");
  absl::StatusOr<torch::jit::Module> extractor =
      CreateFeatureExtractor(ref.module, {.return_nodes = {"features.3", "classifier"}});
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  std::stringstream archive;
  extractor->save(archive);
  torch::jit::Module loaded = torch::jit::load(archive);
  c10::Dict<std::string, at::Tensor> got = Forward(loaded, ref.input);
  EXPECT_EQ(Keys(got), (std::vector<std::string>{"features.3", "classifier"}));
  EXPECT_TRUE(torch::allclose(got.at("classifier"), ref.values.at("classifier.3"), 1e-4, 1e-5));
}

// On any error the module keeps its forward, output and all.
class ExtractorErrorTest : public ::testing::Test {
 protected:
  void ExpectErrorAndUnchanged(const ExtractorOptions& options, const std::string& message,
                               const std::string& model = "resnet18") {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel(model);
    torch::NoGradGuard no_grad;
    const c10::IValue output_before = ref.module.forward({ref.input});
    const std::string before = ref.module.get_method("forward").graph()->toString();
    absl::Status status = InstrumentInPlace(ref.module, options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message));
    EXPECT_EQ(ref.module.get_method("forward").graph()->toString(), before);
    ExpectEqual(ref.module.forward({ref.input}), output_before);
  }

  static void ExpectEqual(const c10::IValue& got, const c10::IValue& want) {
    ASSERT_EQ(got.tagKind(), want.tagKind());
    if (want.isTensor()) {
      EXPECT_TRUE(got.toTensor().equal(want.toTensor()));
    }
    if (!want.isTuple()) return;
    for (size_t i = 0; i < want.toTupleRef().elements().size(); ++i) {
      ExpectEqual(got.toTupleRef().elements()[i], want.toTupleRef().elements()[i]);
    }
  }
};

TEST_F(ExtractorErrorTest, UnknownNode) {
  ExpectErrorAndUnchanged({.return_nodes = {"layer1.0.bn3"}},
                          "node 'layer1.0.bn3' is not in the model's train-mode graph; did you mean 'layer1.0.bn1'");
}

TEST_F(ExtractorErrorTest, EmptyChoice) { ExpectErrorAndUnchanged({}, "no return nodes given"); }

TEST_F(ExtractorErrorTest, DuplicateOutputNames) {
  ExpectErrorAndUnchanged({.return_nodes = {"layer1:f", "layer2:f"}}, "output name 'f' is given twice");
}

TEST_F(ExtractorErrorTest, ReturnNodesTogetherWithPerModeNodes) {
  ExpectErrorAndUnchanged({.return_nodes = {"fc"}, .train_return_nodes = {"fc"}, .eval_return_nodes = {"fc"}},
                          "are exclusive");
}

TEST_F(ExtractorErrorTest, OnlyOnePerModeList) {
  ExpectErrorAndUnchanged({.train_return_nodes = {"fc"}}, "only train_return_nodes is given");
}

TEST_F(ExtractorErrorTest, TupleModeOnANodeInsideControlFlow) {
  ExpectErrorAndUnchanged({.return_nodes = {"conv", "relu"}, .mode = Mode::kTuple},
                          "tuple mode cannot return node 'relu': it is inside control flow (prim::If)", "control_flow");
}

TEST_F(ExtractorErrorTest, TupleModeWithTrainAndEvalChoicesOfDifferentLengths) {
  ExpectErrorAndUnchanged(
      {.train_return_nodes = {"layer1", "fc"}, .eval_return_nodes = {"layer1"}, .mode = Mode::kTuple},
      "tuple mode needs as many train_return_nodes as eval_return_nodes (2 and 1)");
}

TEST_F(ExtractorErrorTest, TupleModeOnAModelThatReturnsNonTensors) {
  ExpectErrorAndUnchanged({.return_nodes = {"fc"}, .mode = Mode::kTuple},
                          "its output 'output.1' is a Optional[Tensor]; use dict mode", "googlenet");
}

TEST_F(ExtractorErrorTest, NodeThatIsNotATensor) {
  ExpectErrorAndUnchanged({.return_nodes = {"stage2.0.size"}}, "node 'stage2.0.size' makes a List[int], not a Tensor",
                          "shufflenet_v2_x0_5");
}

TEST_F(ExtractorErrorTest, UnknownLeafModule) {
  ExpectErrorAndUnchanged(WithLeaves({.return_nodes = {"fc"}}, {"BasicBlok"}), "did you mean 'BasicBlock'");
}

// concrete_args, as FX specializes them: the branch on the fixed argument
// folds (its node is gone), the extractor runs on calls that pass the value,
// and a call that passes another raises FX's AssertionError.
TEST(DictExtractor, ConcreteArgsFoldTheirBranchesAndAreCheckedOnEveryCall) {
  torch::jit::Module model("Masked");
  model.define(R"(
def forward(self, x, mask: Optional[Tensor] = None):
    y = x * 2.0
    if mask is None:
        return y + 1.0
    return y * mask
)");
  ExtractorOptions options;
  options.return_nodes = {"mul", "add"};
  options.concrete_args = {"mask=None"};
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(model, options);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->eval, ::testing::Not(::testing::Contains("mul_1")));
  absl::StatusOr<torch::jit::Module> extractor = CreateFeatureExtractor(model, options);
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  const at::Tensor x = torch::ones({2});
  c10::Dict<c10::IValue, c10::IValue> out = extractor->forward({x}).toGenericDict();
  EXPECT_TRUE(out.at("add").toTensor().equal(torch::full({2}, 3.0)));
  try {
    extractor->forward({x, torch::ones({2})});
    ADD_FAILURE() << "a call with a mask ran";
  } catch (const std::exception& e) {  // TorchScript's raise: a torch::jit::JITException
    EXPECT_THAT(e.what(), HasSubstr("mask has been specialized to have value None but got another value"));
  }
}

}  // namespace
}  // namespace featx
