#include "plugin/log.h"

#include <c10/util/Exception.h>

#include "absl/base/const_init.h"
#include "absl/synchronization/mutex.h"

namespace featx {
namespace {

// Constant-initialized and never destroyed: another file's static
// initializer may log, and server threads may log while the process exits.
ABSL_CONST_INIT absl::Mutex mutex(absl::kConstInit);
LogCallback callback ABSL_GUARDED_BY(mutex) = nullptr;
void* callback_data ABSL_GUARDED_BY(mutex) = nullptr;
// Calls of a callback still running, so that SetLogCallback can wait them out.
int running ABSL_GUARDED_BY(mutex) = 0;
thread_local int inside_callback = 0;

}  // namespace

void SetLogCallback(LogCallback cb, void* user_data) {
  absl::MutexLock lock(&mutex);
  callback = cb;
  callback_data = user_data;
  // A host frees what user_data points to once this returns. A callback
  // that sets the callback itself cannot wait for its own call.
  if (inside_callback == 0)
    mutex.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &running));
}

void Log(const std::string& message, int level) {
  LogCallback cb;
  void* data;
  {
    absl::MutexLock lock(&mutex);
    cb = callback;
    data = callback_data;
    if (cb != nullptr) ++running;
  }
  if (cb == nullptr) {
    TORCH_WARN(message);
    return;
  }
  ++inside_callback;
  try {
    cb(level, message.c_str(), data);
  } catch (...) {
    // A C callback has no business throwing; featx's callers must not see it.
  }
  --inside_callback;
  absl::MutexLock lock(&mutex);
  --running;
}

}  // namespace featx
