// Running a rewritten module and collecting what it emits by name, whatever
// its mode: the dict itself, the tuple's chosen slots (named by the
// manifest), or what its taps record in a capture around the call.
//
//   featx::OutputManifest manifest;
//   FEATX_RETURN_IF_ERROR(featx::InstrumentInPlace(model, {.return_nodes = {"layer1"}, .mode = Mode::kTap},
//                                                  &manifest));
//   FEATX_ASSIGN_OR_RETURN(featx::Extraction got, featx::RunExtractor(model, manifest, {input}));
//   got.activations.at("layer1");  // the same tensor in every mode
//   got.model_output;               // the model's own output (tuple and tap modes)
#pragma once

#include <vector>

#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "ops/capture.h"
#include "plugin/featx.h"

namespace featx {

struct Extraction {
  // Output name -> activation, in the order the forward emitted them.
  Activations activations;
  // The model's own output: None in dict mode; in tuple mode its tensors
  // (one tensor, or a tuple of the flattened ones); in tap mode what
  // forward returned.
  c10::IValue model_output;
};

// Calls `rewritten`'s forward once on `inputs` (without autograd) and sorts
// what comes out by `manifest`, the one InstrumentInPlace or
// CreateFeatureExtractor gave for it. Errors: what forward throws
// (InvalidArgument with torch's message), or an output that does not match
// the manifest (FailedPrecondition).
[[nodiscard]] absl::StatusOr<Extraction> RunExtractor(torch::jit::Module& rewritten, const OutputManifest& manifest,
                                                      std::vector<c10::IValue> inputs);

}  // namespace featx
