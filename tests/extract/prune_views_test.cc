// Pruning and protecting activations where tensors share memory through
// leaves: a view a leaf returns (Flatten, Identity) and a leaf that returns
// its own state. The values a rewrite emits are the model's own.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "ops/capture.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/mode_values.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

// Only later nodes chosen: featx.prune must keep the unused mul_ (through
// Flatten's view of the conv) and add_ (through Identity's view of relu),
// whose effects the chosen nodes read. torchvision's extractor drops both,
// so the reference is the model's own forward, and torchvision's values
// with every node chosen (nothing to drop).
TEST(PruneViews, AnUnusedInPlaceWriteThroughALeafsViewIsKept) {
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel("view_leaf_written_in_place");
    const at::Tensor plain = testing::PlainForward(ref.module, ref.input).toTensor();
    ExtractorOptions options{.return_nodes = {"relu", "sigmoid"}};
    Extraction got = testing::RewriteAndRun(ref.module, options, mode, ref.input);
    ASSERT_EQ(got.activations.size(), 2u) << ModeName(mode);
    EXPECT_TRUE(torch::equal(got.activations.at("sigmoid"), plain)) << ModeName(mode);
    EXPECT_TRUE(torch::allclose(got.activations.at("relu"), ref.values.at("relu"))) << ModeName(mode);
    if (mode != Mode::kDict) {
      EXPECT_TRUE(torch::equal(got.model_output.toTensor(), plain)) << ModeName(mode);
    }
  }
}

// `a` is the leaf's state; a write through the second call's output (for
// another argument) changes it after its node. With Memory a leaf, the
// analysis must see that both calls return the same state, and emit `a` as it
// was at its node. Each call doubles the state: one fresh model per run.
TEST(PruneViews, AnActivationThatIsALeafsStateIsEmittedAsItWasAtItsNode) {
  for (Mode mode : {Mode::kDict, Mode::kTap}) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel("state_alias");
    const at::Tensor state = ref.module.attr("memory").toModule().attr("mem").toTensor().clone();
    ExtractorOptions options{.return_nodes = {"memory", "memory_1", "add"}};
    options.leaf_modules = {"Memory"};
    Extraction got = testing::RewriteAndRun(ref.module, options, mode, ref.input);
    ASSERT_EQ(got.activations.size(), 3u) << ModeName(mode);
    EXPECT_TRUE(torch::equal(got.activations.at("memory"), state)) << ModeName(mode);
    EXPECT_TRUE(torch::equal(got.activations.at("memory_1"), state)) << ModeName(mode);
    EXPECT_TRUE(torch::equal(got.activations.at("add"), state * 2 + ref.input)) << ModeName(mode);
  }
}

}  // namespace
}  // namespace featx
