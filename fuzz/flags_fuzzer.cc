// Fuzzes the FEATX_FLAGS / C API flag string: any bytes give a Config or an
// error that names a flag or the token, never a crash or an exception.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "plugin/host/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string flags(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<featx::Config> config = featx::ConfigFromFlags(flags);
  if (!config.ok() && config.status().message().empty()) std::abort();  // every error says what is wrong
  return 0;
}
