// featx's node names against torchvision's get_graph_node_names, computed by
// python3-torchvision on the same models at build time (tests/models).
//
// Where the two differ, the difference is listed below with its reason and the
// test asserts exactly that list: a new difference, or a listed one that
// disappears, fails the test.
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/import.h>

#include "plugin/featx.h"
#include "plugin/torch_compat.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;

class NamesParityTest : public ::testing::TestWithParam<std::string> {};

// Models FX cannot trace are in UntraceableModelsStillGetNames below.
// No difference with source: models saved by torch.jit.save keep the Python
// source each node came from, which tells `out += x` ("add") from
// `out.add_(x)` ("add_") and `x / y` ("truediv") from `torch.div` ("div").
TEST_P(NamesParityTest, TrainAndEvalNamesEqualTorchvisions) {
  absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel(GetParam());
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_FALSE(ref->trace_error) << *ref->trace_error;
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(ref->module, {.suppress_diff_warning = true});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->train, ElementsAreArray(ref->train_names));
  EXPECT_THAT(names->eval, ElementsAreArray(ref->eval_names));
}

INSTANTIATE_TEST_SUITE_P(Torchvision, NamesParityTest, ::testing::ValuesIn(testing::FxTraceableReferenceModels()),
                         [](const auto& info) { return info.param; });

// A model saved without debug information has only the code torch.jit.save
// printed, where every in-place op reads `torch.add_(...)`: featx falls back
// to the op's name without underscores, which matches `out += x` (ResNet's
// spelling) and not `out.add_(x)`.
struct Difference {
  std::string model, torchvision, featx;
};

TEST(NamesParity, WithoutSourceOnlyExplicitInPlaceMethodsDiffer) {
  const std::vector<Difference> kExpected = {
      {"inplace_chain", "add_", "add"},      // out.add_(identity)
      {"inplace_chain", "relu_", "relu_1"},  // out.relu_(); "relu" is taken by the module
      {"inplace_chain", "mul_", "mul"},      // out.mul_(2.0)
  };
  std::vector<Difference> found;
  for (const std::string model : {"resnet18", "inplace_chain"}) {
    absl::StatusOr<testing::ReferenceModel> ref = testing::LoadReferenceModel(model);
    ASSERT_TRUE(ref.ok()) << ref.status();
    torch::jit::Module stripped = torch::jit::load("tests/models/" + model + "_nosource.pt");
    absl::StatusOr<NodeNames> names = GetGraphNodeNames(stripped, {.suppress_diff_warning = true});
    ASSERT_TRUE(names.ok()) << names.status();
    ASSERT_EQ(names->eval.size(), ref->eval_names.size()) << model;
    EXPECT_EQ(names->train.size(), ref->train_names.size()) << model;
    for (size_t i = 0; i < names->eval.size(); ++i) {
      if (names->eval[i] != ref->eval_names[i]) found.push_back({model, ref->eval_names[i], names->eval[i]});
    }
  }
  ASSERT_EQ(found.size(), kExpected.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(std::tie(found[i].model, found[i].torchvision, found[i].featx),
              std::tie(kExpected[i].model, kExpected[i].torchvision, kExpected[i].featx));
  }
}

// FX cannot trace a data-dependent `if`, so there is no reference list;
// featx names the model all the same.
TEST(NamesParity, UntraceableModelsStillGetNames) {
  absl::StatusOr<testing::ReferenceModel> control_flow = testing::LoadReferenceModel("control_flow");
  ASSERT_TRUE(control_flow.ok()) << control_flow.status();
  ASSERT_TRUE(control_flow->trace_error);
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(control_flow->module);
  ASSERT_TRUE(names.ok()) << names.status();
  // Both branches of the `if` are named, in place; the loop body once (FX
  // would unroll it, had it traced).
  EXPECT_THAT(names->eval, ElementsAreArray({"x", "conv", "sum", "gt", "relu", "tanh", "mul"}));
}

// shufflenet unpacks traced values: `x1, x2 = x.chunk(2, dim=1)` and
// `batchsize, num_channels, height, width = x.size()`. FX in torch 2.x records
// one getitem per element (and the parity test above compares every name);
// FX in 1.13 on Python 3.11 cannot iterate a Proxy and gives no reference.
// featx names them the same way on both.
TEST(NamesParity, UnpackingATracedValueNamesEachElementGetitem) {
  absl::StatusOr<testing::ReferenceModel> shufflenet = testing::LoadReferenceModel("shufflenet_v2_x0_5");
  ASSERT_TRUE(shufflenet.ok()) << shufflenet.status();
  if (FEATX_TORCH_AT_LEAST(2, 0)) {
    EXPECT_FALSE(shufflenet->trace_error) << *shufflenet->trace_error;
  } else {
    ASSERT_TRUE(shufflenet->trace_error);
    EXPECT_THAT(*shufflenet->trace_error, ::testing::HasSubstr("Proxy object cannot be iterated"));
  }
  absl::StatusOr<NodeNames> names = GetGraphNodeNames(shufflenet->module);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(std::vector<std::string>(names->eval.begin(), names->eval.begin() + 6),
              ElementsAreArray({"x", "conv1.0", "conv1.1", "conv1.2", "maxpool", "stage2.0.branch1.0"}));
  // channel_shuffle, a module-level function, is traced through in the block
  // that calls it; its x.size() unpacks into four getitems.
  EXPECT_THAT(names->eval, ::testing::IsSupersetOf({"stage2.0.transpose", "stage2.0.size", "stage2.0.getitem",
                                                    "stage2.0.getitem_3", "stage2.1.chunk", "stage2.1.getitem",
                                                    "stage2.1.getitem_1", "stage2.1.getitem_5"}));
  EXPECT_THAT(names->eval, ::testing::Not(::testing::Contains("stage2.1.getitem_6")));
  EXPECT_EQ(names->eval.back(), "fc");
}

}  // namespace
}  // namespace featx
