// Sinks for the activations of requests a host does not capture itself
// (SinkOptions in plugin/flags.h): a bounded spool directory of
// torch.load-able files and a log line per tag.
//
//   featx::InstallSinks({.spool_dir = "/tmp/acts", .spool_max_files = 50});
//   // every tap-mode request without a capture now leaves /tmp/acts/featx-<pid>-<n>.pt
#pragma once

#include <string>

#include "absl/status/status.h"
#include "ops/capture.h"
#include "plugin/flags.h"

namespace featx {

// Makes `options` the process's request sink, replacing any before; no sink
// when options.any() is false. Errors: a spool directory that cannot be
// created or written.
[[nodiscard]] absl::Status InstallSinks(const SinkOptions& options);

// One log line for a request's activations: per tag, shape, mean, std, min,
// max.
std::string DescribeActivations(const Activations& activations);

}  // namespace featx
