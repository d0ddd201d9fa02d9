// Runs when libfeatx.so is loaded (dlopen, LD_PRELOAD, torch.ops.load_library).
// A host that knows nothing of featx configures it only through FEATX_FLAGS,
// so the sinks that variable names are installed here, before any request.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "plugin/flags.h"
#include "plugin/sinks.h"

namespace featx {
namespace {

bool InstallSinksFromEnvironment() {
  const char* env = std::getenv("FEATX_FLAGS");
  if (env == nullptr) return false;
  // Only the environment: the host has not parsed its command line yet.
  Config config;
  absl::Status status = ApplyFlags(env, &config);
  if (status.ok()) status = InstallSinks(config.sinks);
  if (!status.ok()) {
    std::fprintf(stderr, "featx: FEATX_FLAGS: %s; no sink installed\n", std::string(status.message()).c_str());
    return false;
  }
  return config.sinks.any();
}

[[maybe_unused]] const bool sinks_installed = InstallSinksFromEnvironment();

}  // namespace
}  // namespace featx
