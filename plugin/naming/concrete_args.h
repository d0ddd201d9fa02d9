// Forward arguments fixed to constants before naming, as FX specializes the
// `concrete_args` of torchvision's get_graph_node_names and
// create_feature_extractor: FX then decides the model's branches on those
// values, and records a check that a call passes the same value.
//
// Parsed from "name=value" (None, True, False, an int or a float) and checked
// against forward's arguments before any work is done:
//
//   FEATX_ASSIGN_OR_RETURN(std::vector<ConcreteArgument> fixed,
//                          ParseConcreteArgs(module, {"attn_mask=None", "is_causal=False"}));
//   fixed[0].index;  // 1: forward(self, x, attn_mask, is_causal) without self
#pragma once

#include <string>
#include <vector>

#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"

namespace featx {

struct ConcreteArgument {
  std::string name;
  // Position among forward's arguments after `self`.
  size_t index = 0;
  // None, a bool, an int or a double, of a type the argument takes.
  c10::IValue value;
};

// `specs` as "name=value", in forward's argument order. An unknown argument
// (with did-you-mean), a value featx cannot fix (a tensor), one the argument's
// type does not take, or an argument given twice is an InvalidArgument error.
absl::StatusOr<std::vector<ConcreteArgument>> ParseConcreteArgs(const torch::jit::Module& module,
                                                                const std::vector<std::string>& specs);

// The text FX's check raises when a call passes another value (its
// message, after "AssertionError: "); it contains kSpecializedMarker, by
// which featx.name_nodes knows the check.
std::string SpecializedMessage(const ConcreteArgument& argument);
inline constexpr char kSpecializedMarker[] = " has been specialized to have value ";

}  // namespace featx
