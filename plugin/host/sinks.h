// Sinks for the activations of requests a host does not capture itself
// (SinkOptions in plugin/host/flags.h): a bounded spool directory of torch.load-able
// files, and a log line per request.
//
//   FEATX_ASSIGN_OR_RETURN(featx::RequestSink sink, featx::MakeSink({.spool_dir = "/srv/acts"}));
//   FEATX_RETURN_IF_ERROR(featx::InstrumentInPlace(model, {..., .request_sink = key}));
//   featx::SetRequestSink(key, std::move(sink));   // commit last: nothing to undo
//
// What a server can rely on:
// - MakeSink checks everything it can before anything is installed: the
//   directory exists or is created (0700), is a directory, and takes a file.
// - A sink never fails or stalls a request. The request thread serializes
//   the activations and queues them (at most 64 requests waiting); one writer
//   thread per spool writes them. A full queue, a failed write or a throwing
//   log drops that request's activations, counts it, and logs once per 10 s.
// - Files are created with O_CREAT | O_EXCL (never through a planted link or
//   over an existing file), 0600, under a temporary name, and renamed into
//   place only when whole: `featx-<pid>-<boot nonce>-<n>.pt`, unique across
//   processes and restarts.
// - The bound is the directory's: after each file, the oldest `featx-*.pt`
//   past spool_max_files go, whichever process or spool wrote them.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ops/capture.h"
#include "plugin/host/flags.h"

namespace featx {

// A sink for `options`, checked and ready for SetRequestSink; nullptr when
// options.any() is false. Errors (InvalidArgument, naming the flag): a spool
// directory that cannot be created, is not a directory, or takes no file.
[[nodiscard]] absl::StatusOr<RequestSink> MakeSink(const SinkOptions& options);

// A key no other model of this process has, for ExtractorOptions::
// request_sink and SetRequestSink: `featx-sink-<pid>-<n>`.
std::string NewSinkKey();

// One log line for a request's activations: per tag, shape, mean, std, min,
// max (of the dequantized values); `empty` for a tensor with no elements.
// Never throws.
std::string DescribeActivations(const Activations& activations);

// What the sinks of this process dropped since it started (full queue,
// failed writes, throwing logs), for tests and health checks.
struct SinkCounters {
  uint64_t written = 0;
  uint64_t dropped = 0;
};
SinkCounters GetSinkCounters();

// Waits until every spool has written what it was given, or `timeout`
// passed; true when all is written. libfeatx.so calls it (with 5 s) as the
// process exits, so a host's last requests reach the disk.
bool FlushSinks(absl::Duration timeout = absl::InfiniteDuration());

}  // namespace featx
