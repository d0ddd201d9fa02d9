// Where featx's own messages go: a host's log callback (plugin/c_api.h) when
// one is set, otherwise TORCH_WARN, which reaches whatever
// c10::WarningHandler the host installed.
//
//   featx::Log("featx: layer1 [1, 64, 16, 16] mean=0.41 ...");
#pragma once

#include <string>

namespace featx {

// level: 0 info, 1 warning.
using LogCallback = void (*)(int level, const char* message, void* user_data);

// Thread-safe; nullptr goes back to TORCH_WARN. Returns once no call of the
// previous callback is running (unless called from inside one), so the host
// may free its user_data then.
void SetLogCallback(LogCallback callback, void* user_data);

// Never throws from a callback; TORCH_WARN reaches the host's
// c10::WarningHandler, which may (featx's callers guard it).
void Log(const std::string& message, int level = 1);

}  // namespace featx
