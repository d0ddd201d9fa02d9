// Files the command line writes: whole or not at all (plugin/host/pending_file.h).
// What it reads is tools/model_files.h, shared with featx_host.
//
//   FEATX_RETURN_IF_ERROR(SavePickle("out.pt", dict));         // torch.load-able
#pragma once

#include <string>

#include <ATen/core/ivalue.h>

#include "absl/status/status.h"

namespace featx::cli {

// Writes `value` so Python's torch.load reads it back.
[[nodiscard]] absl::Status SavePickle(const std::string& path, const c10::IValue& value);

}  // namespace featx::cli
