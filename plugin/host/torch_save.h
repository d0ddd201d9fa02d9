// Bytes that Python's torch.load reads with its default settings, in every
// torch: featx's activation files (`featx extract --output`, spool files).
//
//   std::vector<char> bytes = featx::TorchSave(c10::IValue(activations));
//   // Python: torch.load("F.pt") -> {"layer1": tensor(...), ...}
//
// torch::pickle_save tags each dict and list with its TorchScript type
// (torch.jit._pickle.restore_type_tag), which torch.load refuses since torch
// 2.6 made weights_only=True its default. The same zip archive without the
// tags holds plain dicts, lists and tensors, which every torch.load accepts;
// torch::pickle_load reads it back too.
#pragma once

#include <vector>

#include <ATen/core/ivalue.h>

namespace featx {

// `value` as a torch.save-format zip archive, without TorchScript type tags.
// Throws c10::Error where torch::pickle_save would (e.g. a value with no
// pickled form).
std::vector<char> TorchSave(const c10::IValue& value);

}  // namespace featx
