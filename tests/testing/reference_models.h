// The test models that tests/models/make_models.py scripts at build time, with
// torchvision's answers for them, loaded for C++ tests.
//
//   absl::StatusOr<featx::testing::ReferenceModel> ref =
//       featx::testing::LoadReferenceModel("resnet18");
//   ref->module.forward({ref->input});
//   ref->eval_names;   // torchvision's get_graph_node_names, eval list
//   ref->values;       // {node name: activation cloned at its node}
//
// A test that uses one depends on its filegroup, e.g. //tests/models:resnet18.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"

namespace featx::testing {

struct ReferenceModel {
  std::string name;
  torch::jit::Module module;
  at::Tensor input;
  // torchvision's get_graph_node_names; empty when FX could not trace the
  // model, and then `trace_error` says why.
  std::vector<std::string> train_names;
  std::vector<std::string> eval_names;
  std::optional<std::string> trace_error;
  // create_feature_extractor's values in eval mode, cloned at their nodes...
  c10::Dict<std::string, at::Tensor> values;
  // ...and as torchvision returns them, later in-place writes included.
  c10::Dict<std::string, at::Tensor> raw_values;
};

// Names of the models in the test's runfiles (those it depends on), sorted:
// what the build made, so the list lives in tests/models/BUILD.bazel only.
std::vector<std::string> AvailableReferenceModels();

// The available models FX could trace, i.e. those with torchvision reference
// names and values.
std::vector<std::string> FxTraceableReferenceModels();

// Loads tests/models/<name>.* from the test's runfiles (or from the directory
// the FEATX_TEST_MODEL_DIR environment variable names).
absl::StatusOr<ReferenceModel> LoadReferenceModel(const std::string& name);

// The same for a test that cannot go on without the model: a missing or
// broken model ends the test binary with the status.
ReferenceModel MustLoadReferenceModel(const std::string& name);

// The keys of an activation dict, in order.
std::vector<std::string> Keys(const c10::Dict<std::string, at::Tensor>& dict);

// Reads a file written by Python's torch.save (a tensor, or a dict of them).
absl::StatusOr<c10::IValue> LoadPickled(const std::string& path);

}  // namespace featx::testing
