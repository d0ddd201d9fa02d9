// The registered passes: listed and run by name, the load-time rewrite as one
// ordered run of them, a host's own pass in the middle, and clear errors for
// a pipeline out of order. Reference values come from torchvision
// (tests/models/make_models.py).
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "absl/strings/str_join.h"
#include "plugin/featx.h"
#include "plugin/pipeline/install_forward.h"
#include "plugin/pipeline/pass_registry.h"
#include "plugin/pipeline/pipeline.h"
#include "plugin/run_extractor.h"
#include "plugin/torch_compat.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<std::string> RegisteredNames() {
  std::vector<std::string> names;
  for (const PassInfo& pass : ListPasses()) names.push_back(pass.name);
  return names;
}

// Every graph the rewrite holds is well formed (torch's Graph::lint throws
// if not): what each pass leaves behind, not only the end result.
void LintAll(const Rewrite& rewrite) {
  if (rewrite.inlined != nullptr) rewrite.inlined->lint();
  for (const ModeRewrite* part : rewrite.Modes()) part->named.graph->lint();
  if (rewrite.forward != nullptr) rewrite.forward->lint();
}

std::string ForwardCode(const torch::jit::Module& m) { return m.get_method("forward").graph()->toString(); }

// Whether forward calls the submodule `attribute` of self as a whole (a call
// featx.restore_calls put back), rather than holding its code inlined.
bool CallsSubmodule(const torch::jit::Module& m, const std::string& attribute) {
  for (const torch::jit::Node* node : m.get_method("forward").graph()->nodes()) {
    if (node->kind() != c10::prim::CallMethod) continue;
    const torch::jit::Node* self = node->input(0)->node();
    if (self->kind() == c10::prim::GetAttr && self->s(c10::attr::name) == attribute) return true;
  }
  return false;
}

TEST(PassRegistry, LoadingFeatxRegistersEveryPassInLoadTimeOrder) {
  const std::vector<std::string> names = RegisteredNames();
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    ExtractorOptions options;
    options.mode = mode;
    const std::vector<std::string> pipeline = LoadTimePipeline(options);
    // The pipeline is a subsequence of the registry's order.
    auto it = names.begin();
    for (const std::string& pass : pipeline) {
      it = std::find(it, names.end(), pass);
      ASSERT_NE(it, names.end()) << pass << " missing or out of order in " << absl::StrJoin(names, ",");
    }
  }
  for (const char* name :
       {"featx.inline_non_leaf", "featx.fold_module_attributes", "featx.specialize_training", "featx.name_nodes",
        "featx.choose_outputs", "featx.insert_taps", "featx.protect_aliases", "featx.prune"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

// A pass registers itself in its own file and is run because pipeline.cc
// lists it: the two must agree, or a pass is silently never run.
TEST(PassRegistry, EveryListedPassIsRegisteredAndEveryFeatxPassIsListed) {
  const std::vector<std::string> registered = RegisteredNames();
  for (const std::string& name : FeatxPassOrder()) {
    EXPECT_NE(std::find(registered.begin(), registered.end(), name), registered.end())
        << name << " is in FeatxPassOrder but no file registers it";
  }
  for (const std::string& name : registered) {
    if (name.rfind("featx.", 0) != 0) continue;  // a test's own pass
    EXPECT_TRUE(IsFeatxPass(name)) << name << " is registered but not in FeatxPassOrder";
  }
}

// Each mode's pipeline hands the rewrite from stage to stage with no gap:
// every pass runs at the stage the one before it left.
TEST(PassRegistry, EachModesPipelineChainsItsStages) {
  std::vector<PassInfo> infos = ListPasses();
  auto info = [&](const std::string& name) {
    return *std::find_if(infos.begin(), infos.end(), [&](const PassInfo& p) { return p.name == name; });
  };
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    ExtractorOptions options;
    options.mode = mode;
    Stage stage = Stage::kModule;
    for (const std::string& name : LoadTimePipeline(options)) {
      EXPECT_EQ(info(name).runs_at, stage) << name << " in " << ModeName(mode) << " mode";
      stage = info(name).leaves_at;
    }
    EXPECT_EQ(stage, Stage::kMerged) << ModeName(mode);
  }
}

TEST(PassRegistry, RunningTheNamingPassesGivesTorchvisionsNames) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  absl::StatusOr<Rewrite> rewrite = Rewrite::Start(ref.module, {});
  ASSERT_TRUE(rewrite.ok()) << rewrite.status();
  for (const char* pass :
       {"featx.inline_non_leaf", "featx.fold_module_attributes", "featx.specialize_training", "featx.name_nodes"}) {
    ASSERT_TRUE(RunPass(pass, *rewrite).ok()) << pass;
  }
  EXPECT_EQ(rewrite->stage, Stage::kNamed);
  EXPECT_EQ(rewrite->eval->named.Names(), ref.eval_names);
  EXPECT_EQ(rewrite->train->named.Names(), ref.train_names);
}

// What a host does with the registry: run the load-time pipeline by name
// (RunPasses), then install. On resnet18 with a node of layer1 and fc chosen,
// featx.restore_calls puts back as calls what holds no chosen node (layer1.1,
// layer2 ... layer4): the result equals InstrumentInPlace's, calls included,
// and its values are torchvision's.
TEST(PassRegistry, LoadTimePipelineRunByNameEqualsInstrumentInPlace) {
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
    ExtractorOptions options;
    options.return_nodes = {"layer1.0.add", "fc"};
    options.mode = mode;
    absl::StatusOr<Rewrite> rewrite = Rewrite::Start(ref.module, options);
    ASSERT_TRUE(rewrite.ok()) << rewrite.status();
    ASSERT_TRUE(RunPasses(LoadTimePipeline(options), *rewrite).ok());
    ASSERT_NO_THROW(LintAll(*rewrite)) << ModeName(mode);
    absl::StatusOr<torch::jit::Module> with_forward = WithForward(ref.module, rewrite->forward);
    ASSERT_TRUE(with_forward.ok()) << with_forward.status();
    torch::jit::Module by_name = *with_forward;
    EXPECT_TRUE(CallsSubmodule(by_name, "layer4")) << ModeName(mode);

    torch::jit::Module direct = testing::MustLoadReferenceModel("resnet18").module;
    OutputManifest manifest;
    ASSERT_TRUE(InstrumentInPlace(direct, options, &manifest).ok());
    EXPECT_EQ(ForwardCode(by_name), ForwardCode(direct)) << ModeName(mode);

    by_name.eval();
    absl::StatusOr<Extraction> got = RunExtractor(by_name, rewrite->manifest, {ref.input.clone()});
    ASSERT_TRUE(got.ok()) << got.status();
    for (const std::string& name : options.return_nodes) {
      EXPECT_TRUE(got->activations.at(name).allclose(ref.values.at(name), 1e-4, 1e-5)) << name << " " << ModeName(mode);
    }
  }
}

// Passes run one at a time (RunPass) cannot know a later featx.restore_calls
// will run, so featx.inline_non_leaf marks no calls and every call stays
// inlined: the same values, a longer forward.
TEST(PassRegistry, PassesRunOneByOneLeaveEveryCallInlined) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  ExtractorOptions options;
  options.return_nodes = {"layer1.0.add", "fc"};
  absl::StatusOr<Rewrite> rewrite = Rewrite::Start(ref.module, options);
  ASSERT_TRUE(rewrite.ok()) << rewrite.status();
  for (const std::string& pass : LoadTimePipeline(options)) {
    absl::Status status = RunPass(pass, *rewrite);
    ASSERT_TRUE(status.ok()) << pass << ": " << status;
    ASSERT_NO_THROW(LintAll(*rewrite)) << "after " << pass;
  }
  absl::StatusOr<torch::jit::Module> one_by_one = WithForward(ref.module, rewrite->forward);
  ASSERT_TRUE(one_by_one.ok()) << one_by_one.status();
  EXPECT_FALSE(CallsSubmodule(*one_by_one, "layer4"));
  one_by_one->eval();
  absl::StatusOr<Extraction> got = RunExtractor(*one_by_one, rewrite->manifest, {ref.input.clone()});
  ASSERT_TRUE(got.ok()) << got.status();
  for (const std::string& name : options.return_nodes) {
    EXPECT_TRUE(got->activations.at(name).allclose(ref.values.at(name), 1e-4, 1e-5)) << name;
  }
}

TEST(PassRegistry, AHostPassRunsBetweenFeatxPasses) {
  std::vector<std::string> seen;
  ASSERT_TRUE(AddPass({{"test.record_eval_names", "records the eval names", Stage::kNamed, Stage::kNamed, {}},
                       [&seen](Rewrite& rewrite) {
                         seen = rewrite.eval->named.Names();
                         return absl::OkStatus();
                       }}));
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  ExtractorOptions options;
  options.return_nodes = {"layer1.0.add"};
  options.mode = Mode::kTap;
  options.passes = LoadTimePipeline(options);
  options.passes.insert(std::find(options.passes.begin(), options.passes.end(), "featx.choose_outputs"),
                        "test.record_eval_names");
  OutputManifest manifest;
  ASSERT_TRUE(InstrumentInPlace(ref.module, options, &manifest).ok());
  EXPECT_EQ(seen, ref.eval_names);
  absl::StatusOr<Extraction> got = RunExtractor(ref.module, manifest, {ref.input.clone()});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->activations.at("layer1.0.add").equal(ref.values.at("layer1.0.add")));
}

// RunPass did not guard pass bodies: a throwing host pass went through
// InstrumentInPlace, which promises never to throw.
TEST(PassRegistry, AThrowingHostPassIsAnInternalErrorAndTheModelIsUnchanged) {
  ASSERT_TRUE(AddPass({{"test.throws", "throws", Stage::kNamed, Stage::kNamed, {}},
                       [](Rewrite&) -> absl::Status { throw std::runtime_error("host pass bug"); }}));
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
  const std::string before = ref.module.get_method("forward").graph()->toString();
  ExtractorOptions options;
  options.return_nodes = {"fc"};
  options.passes = LoadTimePipeline(options);
  options.passes.insert(std::find(options.passes.begin(), options.passes.end(), "featx.choose_outputs"), "test.throws");
  absl::Status status;
  ASSERT_NO_THROW(status = InstrumentInPlace(ref.module, options));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("test.throws failed: host pass bug"));
  EXPECT_EQ(ref.module.get_method("forward").graph()->toString(), before);
}

// A host's warning handler that throws, called from featx's train/eval
// warning, is the same: a status, never an exception.
TEST(PassRegistry, AThrowingWarningHandlerIsAnInternalError) {
  struct Throwing : compat::WarningHandler {
    void Handle(const std::string&) override { throw std::runtime_error("handler bug"); }
  } handler;
  compat::WarningHandlerGuard guard(&handler);
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("train_eval_branch");
  const std::string before = ref.module.get_method("forward").graph()->toString();
  absl::Status status;
  ASSERT_NO_THROW(status = InstrumentInPlace(ref.module, {.return_nodes = {"conv"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("featx.warn_graph_differences failed: handler bug"));
  EXPECT_EQ(ref.module.get_method("forward").graph()->toString(), before);
  absl::StatusOr<NodeNames> names;
  ASSERT_NO_THROW(names = GetGraphNodeNames(ref.module));
  EXPECT_EQ(names.status().code(), absl::StatusCode::kInternal);
}

TEST(PassRegistry, ANameTakenTwiceIsRefused) {
  EXPECT_FALSE(AddPass({{"featx.prune", "another prune", Stage::kEmitted, Stage::kEmitted, {}},
                        [](Rewrite&) { return absl::OkStatus(); }}));
  const std::vector<std::string> names = RegisteredNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "featx.prune"), 1);
}

class PipelineErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ref_ = testing::MustLoadReferenceModel("train_eval_branch");
    before_ = ForwardCode(ref_.module);
  }
  // Runs `passes` through InstrumentInPlace and returns its status; the
  // module must be unchanged.
  absl::Status Instrument(std::vector<std::string> passes, Mode mode = Mode::kDict) {
    ExtractorOptions options;
    options.return_nodes = {"conv"};
    options.mode = mode;
    options.suppress_diff_warning = true;
    options.passes = std::move(passes);
    absl::Status status = InstrumentInPlace(ref_.module, options);
    EXPECT_EQ(ForwardCode(ref_.module), before_) << "the module changed";
    return status;
  }
  testing::ReferenceModel ref_;
  std::string before_;
};

TEST_F(PipelineErrors, UnknownPassSuggestsTheClosestName) {
  absl::Status status = Instrument({"featx.inline_non_leaf", "featx.prun"});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("no featx pass named 'featx.prun'; did you mean 'featx.prune'"));
}

TEST_F(PipelineErrors, APassBeforeItsStageSaysWhatToRunFirst) {
  absl::Status status = Instrument({"featx.name_nodes"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("featx.name_nodes runs on train and eval graphs"));
  EXPECT_THAT(status.message(), HasSubstr("run featx.specialize_training first"));
}

TEST_F(PipelineErrors, APassAfterItsStageSaysItMustRunEarlier) {
  absl::Status status =
      Instrument({"featx.inline_non_leaf", "featx.specialize_training", "featx.fold_module_attributes"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("(after featx.specialize_training); it must run earlier"));
}

TEST_F(PipelineErrors, APassRunsOnce) {
  absl::Status status =
      Instrument({"featx.inline_non_leaf", "featx.fold_module_attributes", "featx.fold_module_attributes"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("featx.fold_module_attributes already ran"));
}

TEST_F(PipelineErrors, AnEmittingPassOfAnotherModeNamesTheRightOne) {
  ExtractorOptions dict;
  std::vector<std::string> passes = LoadTimePipeline(dict);
  std::replace(passes.begin(), passes.end(), std::string("featx.return_dict"), std::string("featx.insert_taps"));
  absl::Status status = Instrument(passes, Mode::kDict);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("featx.insert_taps serves tap mode, but this rewrite is in dict mode; "
                                          "run featx.return_dict instead"));
}

TEST_F(PipelineErrors, APipelineThatStopsEarlyInstallsNothing) {
  absl::Status status = Instrument(NamingPipeline({.suppress_diff_warning = true}));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("a forward can be installed only once featx.merge_train_eval has run"));
}

}  // namespace
}  // namespace featx
