// Every rewrite keeps the model's calling contract: forward's argument names,
// default values and keyword use, in every mode, made fresh or in place, and
// after a save and load. Callers that send only `x` must keep working.
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include "plugin/featx.h"
#include "tests/testing/reference_models.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

struct Argument {
  std::string name;
  std::string default_value;  // "" when none
  bool operator==(const Argument&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Argument& a) {
    return os << a.name << (a.default_value.empty() ? "" : "=" + a.default_value);
  }
};

std::vector<Argument> Arguments(const jit::Module& module) {
  std::vector<Argument> out;
  for (const c10::Argument& a : module.get_method("forward").function().getSchema().arguments()) {
    std::ostringstream value;
    if (a.default_value()) value << *a.default_value();
    out.push_back({a.name(), value.str()});
  }
  return out;
}

c10::IValue Call(const jit::Module& module, const at::Tensor& x, const jit::Kwargs& kwargs = {}) {
  torch::NoGradGuard no_grad;
  return module.get_method("forward")({x}, kwargs);
}

jit::Module SavedAndLoaded(const jit::Module& module) {
  std::stringstream bytes;
  module.save(bytes);
  return jit::load(bytes);
}

// The rewritten forward's answer to the plain model's: the same tensor in
// tap mode; the chosen node (`head`, the model's output) in the others.
at::Tensor Output(const c10::IValue& out, Mode mode) {
  switch (mode) {
    case Mode::kDict:
      return out.toGenericDict().at("head").toTensor();
    case Mode::kTuple:
      return out.toTupleRef().elements()[0].toTensor();
    case Mode::kTap:
      return out.toTensor();
  }
  return {};
}

class ContractTest : public ::testing::TestWithParam<Mode> {};

TEST_P(ContractTest, ArgumentsDefaultsAndKeywordsSurviveEveryRewrite) {
  const Mode mode = GetParam();
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("forward_defaults");
  ref.module.eval();
  const std::vector<Argument> want = Arguments(ref.module);
  ASSERT_EQ(want.size(), 4u);
  EXPECT_EQ(want[2], (Argument{"scale", "2."}));
  const at::Tensor plain = Call(ref.module, ref.input).toTensor();
  const at::Tensor plain_keyword = Call(ref.module, ref.input, {{"offset", 1.0}}).toTensor();
  ASSERT_FALSE(torch::equal(plain, plain_keyword));

  ExtractorOptions options{.return_nodes = {"conv", "head"}, .mode = mode};
  absl::StatusOr<jit::Module> extractor = CreateFeatureExtractor(ref.module, options);
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  jit::Module in_place = ref.module.clone();
  ASSERT_TRUE(InstrumentInPlace(in_place, options).ok());

  for (const auto& [how, module] : {std::pair<std::string, jit::Module>("extractor", *extractor),
                                    {"in place", in_place},
                                    {"saved and loaded", SavedAndLoaded(*extractor)}}) {
    SCOPED_TRACE(how);
    std::vector<Argument> got = Arguments(module);
    EXPECT_EQ(got, want);
    EXPECT_TRUE(torch::allclose(Output(Call(module, ref.input), mode), plain));
    EXPECT_TRUE(torch::allclose(Output(Call(module, ref.input, {{"offset", 1.0}}), mode), plain_keyword));
  }
}

// The rollback path: a rewrite that fails leaves the model callable as before,
// by position and by keyword.
TEST_P(ContractTest, AFailedRewriteLeavesTheContractAsItWas) {
  testing::ReferenceModel ref = testing::MustLoadReferenceModel("forward_defaults");
  ref.module.eval();
  const std::vector<Argument> want = Arguments(ref.module);
  const at::Tensor plain_keyword = Call(ref.module, ref.input, {{"offset", 1.0}}).toTensor();

  absl::Status status = InstrumentInPlace(ref.module, {.return_nodes = {"conv", "haed"}, .mode = GetParam()});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("'head'?"), std::string::npos) << status;
  EXPECT_EQ(Arguments(ref.module), want);
  EXPECT_TRUE(torch::equal(Call(ref.module, ref.input, {{"offset", 1.0}}).toTensor(), plain_keyword));
}

INSTANTIATE_TEST_SUITE_P(Modes, ContractTest, ::testing::Values(Mode::kDict, Mode::kTuple, Mode::kTap),
                         [](const ::testing::TestParamInfo<Mode>& info) { return std::string(ModeName(info.param)); });

}  // namespace
}  // namespace featx
