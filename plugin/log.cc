#include "plugin/log.h"

#include <c10/util/Exception.h>

#include "absl/synchronization/mutex.h"

namespace featx {
namespace {

absl::Mutex mutex;
LogCallback callback = nullptr;
void* callback_data = nullptr;

}  // namespace

void SetLogCallback(LogCallback cb, void* user_data) {
  absl::MutexLock lock(&mutex);
  callback = cb;
  callback_data = user_data;
}

void Log(const std::string& message, int level) {
  LogCallback cb;
  void* data;
  {
    absl::MutexLock lock(&mutex);
    cb = callback;
    data = callback_data;
  }
  if (cb != nullptr) {
    cb(level, message.c_str(), data);
  } else {
    TORCH_WARN(message);
  }
}

}  // namespace featx
