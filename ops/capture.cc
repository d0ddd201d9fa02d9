#include "ops/capture.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace featx {
namespace {

// The innermost open capture of this thread; the chain continues through
// Capture::enclosing_. Thread-local, so requests on different threads are
// isolated without locks on the tap path.
thread_local Capture* innermost = nullptr;

// Captures opened by BeginCapture, which outlive any C++ scope.
std::vector<std::unique_ptr<Capture>>& OpCaptures() {
  thread_local std::vector<std::unique_ptr<Capture>> captures;
  return captures;
}

// The capture RequestBegin opened on this thread, and the sink it reports to.
struct ImplicitRequest {
  std::unique_ptr<Capture> capture;
  std::shared_ptr<const RequestSink> sink;
};
thread_local ImplicitRequest implicit_request;

absl::Mutex sink_mutex;
std::shared_ptr<const RequestSink>& Sink() {
  static auto* sink = new std::shared_ptr<const RequestSink>();
  return *sink;
}

}  // namespace

void SetRequestSink(RequestSink sink) {
  absl::MutexLock lock(&sink_mutex);
  Sink() = sink ? std::make_shared<const RequestSink>(std::move(sink)) : nullptr;
}

void RequestBegin() {
  // A request whose forward threw never reached RequestEnd: drop what it
  // recorded rather than mix it into this one.
  if (implicit_request.capture != nullptr && innermost == implicit_request.capture.get()) {
    implicit_request = ImplicitRequest();
  }
  if (innermost != nullptr) return;  // the host's own capture takes the taps
  std::shared_ptr<const RequestSink> sink;
  {
    absl::MutexLock lock(&sink_mutex);
    sink = Sink();
  }
  if (sink == nullptr) return;
  implicit_request.sink = std::move(sink);
  implicit_request.capture = std::make_unique<Capture>();
}

void RequestEnd() {
  if (implicit_request.capture == nullptr || innermost != implicit_request.capture.get()) return;
  ImplicitRequest request = std::move(implicit_request);
  implicit_request = ImplicitRequest();
  const Activations activations = request.capture->Take();
  request.capture.reset();
  (*request.sink)(activations);
}

Capture::Capture() : enclosing_(innermost) { innermost = this; }

Capture::~Capture() {
  // RAII captures close in reverse order of opening on their thread, so this
  // capture is the innermost one.
  innermost = enclosing_;
}

Activations Capture::Take() {
  Activations taken = std::move(activations_);
  activations_ = Activations();
  return taken;
}

bool CaptureIsOpen() { return innermost != nullptr; }

void Record(c10::string_view tag, const at::Tensor& value) {
  if (innermost == nullptr) return;
  innermost->activations_.insert_or_assign(std::string(tag.data(), tag.size()), value);
}

void BeginCapture() { OpCaptures().push_back(std::make_unique<Capture>()); }

absl::StatusOr<Activations> EndCapture() {
  auto& captures = OpCaptures();
  if (captures.empty()) {
    return absl::FailedPreconditionError(
        "featx::capture_end: no capture is open on this thread; call featx::capture_begin() first, on the same "
        "thread as the forward call");
  }
  if (captures.back().get() != innermost) {
    return absl::FailedPreconditionError(
        "featx::capture_end: a featx::Capture opened after capture_begin() is still open on this thread; close it "
        "first");
  }
  Activations taken = captures.back()->Take();
  captures.pop_back();
  return taken;
}

}  // namespace featx
