#include "tests/testing/mode_values.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

namespace featx::testing {
namespace {

bool IsTensors(const c10::IValue& v) {
  if (v.isTensor()) return true;
  if (!v.isTuple()) return false;
  for (const c10::IValue& item : v.toTupleRef().elements()) {
    if (!IsTensors(item)) return false;
  }
  return true;
}

}  // namespace

bool CloseToReference(const at::Tensor& got, const at::Tensor& want) {
  if (got.sizes() != want.sizes() || got.dtype() != want.dtype()) return false;
  if (want.is_quantized()) {
    // The same quantization parameters, and the same values.
    return got.is_quantized() && got.qscheme() == want.qscheme() &&
           (want.qscheme() != at::kPerTensorAffine ||
            (got.q_scale() == want.q_scale() && got.q_zero_point() == want.q_zero_point())) &&
           CloseToReference(got.dequantize(), want.dequantize());
  }
  const double scale = want.numel() == 0 ? 1.0 : std::max(1.0, want.abs().max().item<double>());
  return torch::allclose(got, want, /*rtol=*/1e-4, /*atol=*/1e-5 * scale);
}

void ExpectSameValue(const c10::IValue& got, const c10::IValue& want) {
  if (want.isNone()) {
    EXPECT_TRUE(got.isNone());
    return;
  }
  if (want.isTensor()) {
    ASSERT_TRUE(got.isTensor());
    EXPECT_TRUE(CloseToReference(got.toTensor(), want.toTensor()));
    return;
  }
  if (want.isGenericDict()) {
    // Segmentation models and FPN backbones answer {name: Tensor}.
    ASSERT_TRUE(got.isGenericDict());
    ASSERT_EQ(got.toGenericDict().size(), want.toGenericDict().size());
    for (const auto& item : want.toGenericDict()) {
      ASSERT_TRUE(got.toGenericDict().contains(item.key())) << item.key();
      ExpectSameValue(got.toGenericDict().at(item.key()), item.value());
    }
    return;
  }
  ASSERT_TRUE(want.isTuple() && got.isTuple());
  ASSERT_EQ(got.toTupleRef().elements().size(), want.toTupleRef().elements().size());
  for (size_t i = 0; i < want.toTupleRef().elements().size(); ++i) {
    ExpectSameValue(got.toTupleRef().elements()[i], want.toTupleRef().elements()[i]);
  }
}

std::vector<std::string> TrainChoice(const ReferenceModel& ref) {
  std::vector<std::string> choice;
  for (const std::string& key : Keys(ref.values)) {
    if (std::find(ref.train_names.begin(), ref.train_names.end(), key) != ref.train_names.end()) {
      choice.push_back(key);
    }
  }
  return choice;
}

c10::IValue PlainForward(torch::jit::Module& module, const at::Tensor& input) {
  torch::NoGradGuard no_grad;
  return module.forward({input.clone()});
}

Extraction RewriteAndRun(torch::jit::Module& module, ExtractorOptions options, Mode mode, const at::Tensor& input,
                         OutputManifest* manifest_out) {
  options.mode = mode;
  OutputManifest manifest;
  absl::Status status = InstrumentInPlace(module, options, &manifest);
  EXPECT_TRUE(status.ok()) << status;
  absl::StatusOr<Extraction> got = RunExtractor(module, manifest, {input.clone()});
  EXPECT_TRUE(got.ok()) << got.status();
  if (manifest_out != nullptr) *manifest_out = manifest;
  return got.ok() ? *std::move(got) : Extraction{Activations(), c10::IValue()};
}

void ExpectModeValuesEqualTorchvisions(ReferenceModel& ref, Mode mode) {
  const c10::IValue plain = PlainForward(ref.module, ref.input);
  // Values are eval-mode; train mode only needs a valid choice.
  const std::vector<std::string> train_choice = TrainChoice(ref);
  ExtractorOptions options{.train_return_nodes = train_choice, .eval_return_nodes = Keys(ref.values), .mode = mode};
  options.suppress_diff_warning = true;
  if (mode == Mode::kTuple && !IsTensors(plain)) {
    // googlenet returns a named tuple with Optional aux logits: Triton
    // cannot take that, and featx says so.
    absl::Status status = InstrumentInPlace(ref.module, options);
    EXPECT_THAT(std::string(status.message()),
                ::testing::HasSubstr("tuple mode returns the model's own outputs as tensors"));
    return;
  }
  if (mode == Mode::kTuple && train_choice.size() != ref.values.size()) {
    // One tuple type for both modes needs choices of one length
    // (TupleMode.TrainAndEvalChoicesOfOneLength covers this model).
    GTEST_SKIP() << "train mode lacks some eval nodes";
  }
  Extraction got = RewriteAndRun(ref.module, options, mode, ref.input);
  ASSERT_EQ(Keys(got.activations), Keys(ref.values));
  for (const auto& item : ref.values) {
    EXPECT_TRUE(CloseToReference(got.activations.at(item.key()), item.value())) << item.key();
  }
  if (mode != Mode::kDict) ExpectSameValue(got.model_output, plain);
}

}  // namespace featx::testing
