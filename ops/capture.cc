#include "ops/capture.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
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

// Sinks by key. Constant-initialized, and never destroyed: server threads may
// end requests while the process exits.
ABSL_CONST_INIT absl::Mutex sinks_mutex(absl::kConstInit);
absl::flat_hash_map<std::string, std::shared_ptr<const RequestSink>>& Sinks()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sinks_mutex) {
  static auto* sinks = new absl::flat_hash_map<std::string, std::shared_ptr<const RequestSink>>();
  return *sinks;
}

std::shared_ptr<const RequestSink> FindSink(c10::string_view key) {
  absl::MutexLock lock(&sinks_mutex);
  const auto& sinks = Sinks();
  auto it = sinks.find(absl::string_view(key.data(), key.size()));
  if (it == sinks.end()) it = sinks.find("");
  return it == sinks.end() ? nullptr : it->second;
}

std::atomic<uint64_t> sink_failures{0};

}  // namespace

void SetRequestSink(const std::string& key, RequestSink sink) {
  absl::MutexLock lock(&sinks_mutex);
  if (sink) {
    Sinks()[key] = std::make_shared<const RequestSink>(std::move(sink));
  } else {
    Sinks().erase(key);
  }
}

void RequestBegin(c10::string_view key) {
  // A request whose forward threw never reached RequestEnd: drop what it
  // recorded rather than mix it into this one.
  if (implicit_request.capture != nullptr && innermost == implicit_request.capture.get()) {
    implicit_request = ImplicitRequest();
  }
  if (innermost != nullptr) return;  // the host's own capture takes the taps
  std::shared_ptr<const RequestSink> sink = FindSink(key);
  if (sink == nullptr) return;
  implicit_request.sink = std::move(sink);
  implicit_request.capture = std::make_unique<Capture>();
}

void RequestEnd(c10::string_view /*key*/) {
  if (implicit_request.capture == nullptr || innermost != implicit_request.capture.get()) return;
  ImplicitRequest request = std::move(implicit_request);
  implicit_request = ImplicitRequest();
  const Activations activations = request.capture->Take();
  request.capture.reset();
  // The request has its answer; nothing the sink does may take it away.
  try {
    (*request.sink)(activations);
  } catch (...) {
    sink_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

uint64_t RequestSinkFailures() { return sink_failures.load(std::memory_order_relaxed); }

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
