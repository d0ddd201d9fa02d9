// The check at the heart of featx's value tests: rewrite a reference model in
// one mode, run it on its input, and compare what it emits with torchvision's
// create_feature_extractor values at the same nodes. Used by
// tests/extract/modes_test (models saved by the torch featx is built against)
// and tests/cross (models saved by the other torch version).
//
//   testing::ReferenceModel ref = testing::MustLoadReferenceModel("resnet18");
//   testing::ExpectModeValuesEqualTorchvisions(ref, Mode::kTap);
#pragma once

#include <string>
#include <vector>

#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "plugin/featx.h"
#include "plugin/run_extractor.h"
#include "tests/testing/reference_models.h"

namespace featx::testing {

// Rewrites `module` in place in `mode` and runs it once on `input`; a failure
// is a gtest failure and an empty Extraction.
Extraction RewriteAndRun(torch::jit::Module& module, ExtractorOptions options, Mode mode, const at::Tensor& input,
                         OutputManifest* manifest_out = nullptr);

// The model's forward on `input`, without autograd.
c10::IValue PlainForward(torch::jit::Module& module, const at::Tensor& input);

// `got` equals torchvision's `want` up to float32 rounding: rtol 1e-4 and an
// atol of 1e-5 times the larger of 1 and want's largest magnitude. Kernels of
// another torch version (or thread count) sum in another order: resnet50's
// logits come out 6.5e-5 apart on values up to 49 between 1.13 and 2.15.
bool CloseToReference(const at::Tensor& got, const at::Tensor& want);

// The sampled nodes that train mode has too: torchvision's train choice when
// the eval choice is every sampled node (as make_models.py chose).
std::vector<std::string> TrainChoice(const ReferenceModel& ref);

// EXPECTs `got` equal to `want`: None, a tensor (CloseToReference) or a
// tuple of them.
void ExpectSameValue(const c10::IValue& got, const c10::IValue& want);

// The sampled nodes of `ref` (every node of the small models), rewritten in
// `mode` with torchvision's train/eval choice, equal torchvision's values at
// their nodes; in tuple and tap mode the model's own output is unchanged.
// Skips (GTEST_SKIP) tuple mode where train mode lacks some eval nodes, and
// expects featx's error where tuple mode cannot return the model's output.
// `ref.module` is rewritten.
void ExpectModeValuesEqualTorchvisions(ReferenceModel& ref, Mode mode);

}  // namespace featx::testing
