// Runs when libfeatx.so is loaded (dlopen, LD_PRELOAD, torch.ops.load_library).
// A host that knows nothing of featx configures it only through FEATX_FLAGS,
// so what that variable asks for is set up here, before any request: the
// sinks, and the opt-in executor hook (plugin/host/executor_hook.h).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "plugin/host/executor_hook.h"
#include "plugin/host/flags.h"
#include "plugin/host/sinks.h"

namespace featx {
namespace {

void Complain(const absl::Status& status, const char* consequence) {
  std::fprintf(stderr, "featx: FEATX_FLAGS: %s; %s\n", std::string(status.message()).c_str(), consequence);
}

bool SetUpFromEnvironment() {
  const char* env = std::getenv("FEATX_FLAGS");
  if (env == nullptr) return false;
  // Only the environment: the host has not parsed its command line yet.
  Config config;
  absl::Status status = ApplyFlags(env, &config);
  if (!status.ok()) {
    Complain(status, "featx does nothing at load");
    return false;
  }
  // The process's default sink: tap-mode models with no sink of their own.
  if (absl::StatusOr<RequestSink> sink = MakeSink(config.sinks); sink.ok()) {
    SetRequestSink(*std::move(sink));
  } else {
    Complain(sink.status(), "no sink installed");
  }
  if (config.executor_hook) {
    if (status = EnableExecutorHook(config.extractor); !status.ok()) Complain(status, "no executor hook");
  }
  return true;
}

[[maybe_unused]] const bool set_up = SetUpFromEnvironment();

// Spools write on their own threads; as the process exits, give them a
// bounded time to write the last requests.
struct FlushAtExit {
  ~FlushAtExit() { FlushSinks(absl::Seconds(5)); }
} flush_at_exit;

}  // namespace
}  // namespace featx
