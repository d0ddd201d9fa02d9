// Per-request capture of the activations that `featx::tap` sees.
//
// A host opens a capture around one request; every `featx::tap` that runs on
// the same thread while it is open records its tensor under its tag. Taps on
// other threads record into their own thread's capture, so concurrent
// requests never see each other's activations. With no capture open a tap is
// a pass-through.
//
//   featx::Capture capture;                       // opens on this thread
//   torch::IValue out = module.forward({input});  // taps record here
//   featx::Activations acts = capture.Take();     // {"layer1": Tensor, ...}
//
// Python and TorchScript hosts, which have no RAII object to hold, use the ops
// `featx::capture_begin()` and `featx::capture_end() -> Dict[str, Tensor]`
// (registered in ops/register_ops.cc), which call BeginCapture / EndCapture.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include "absl/status/statusor.h"

namespace featx {

// Tag -> tensor, in the order tags were first recorded.
using Activations = c10::Dict<std::string, at::Tensor>;

// Opens a capture on the calling thread for the lifetime of the object.
// Captures nest: taps record into the innermost open one only.
class Capture {
 public:
  Capture();
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // What has been recorded so far. A tag recorded twice (a tap inside a
  // loop) holds its last value.
  const Activations& activations() const { return activations_; }

  // Moves the recorded activations out; the capture stays open and empty.
  Activations Take();

 private:
  friend void Record(c10::string_view tag, const at::Tensor& value);

  Capture* enclosing_;
  Activations activations_;
};

// True when a capture is open on the calling thread.
bool CaptureIsOpen();

// Records `value` under `tag` in the calling thread's innermost capture; does
// nothing when none is open. The tensor is stored, not copied: where a later
// in-place op would overwrite it, the passes use `featx::tap.copy`, which
// records a clone.
void Record(c10::string_view tag, const at::Tensor& value);

// Requests a host does not bracket with a capture (a server that knows
// nothing of featx running a tap-mode model). A tap-mode forward calls
// RequestBegin first and RequestEnd last (the featx::request_begin and
// featx::request_end ops), naming the sink its model reports to. When that
// sink is set and no capture is open, the request gets a capture of its own,
// and its activations go to the sink when it ends; with a capture open, or no
// sink, both do nothing.
//
// Sinks belong to models: each is set under a key that the rewrite wrote
// into its model's forward (ExtractorOptions::request_sink). The key "" is the
// process's default sink (what FEATX_FLAGS names at load), for models with no
// key, or one no sink was set for here (a model rewritten offline).
using RequestSink = std::function<void(const Activations&)>;

// Sets the sink for `key` (nullptr removes it). Thread-safe; requests already
// running finish with the sink they started with.
void SetRequestSink(const std::string& key, RequestSink sink);
// The default sink.
inline void SetRequestSink(RequestSink sink) { SetRequestSink("", std::move(sink)); }

void RequestBegin(c10::string_view key = "");
// Never throws: a sink that throws loses that request's activations and is
// counted (RequestSinkFailures), and the request goes on.
void RequestEnd(c10::string_view key = "");

// How many times a sink threw since the process started.
uint64_t RequestSinkFailures();

// Opens a capture on the calling thread that lives until EndCapture.
void BeginCapture();

// Closes the innermost capture opened by BeginCapture and returns what it
// recorded. FailedPrecondition when BeginCapture opened none on this thread,
// or when a C++ `Capture` opened inside it is still open.
[[nodiscard]] absl::StatusOr<Activations> EndCapture();

}  // namespace featx
