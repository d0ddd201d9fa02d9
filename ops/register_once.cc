#include "ops/register_once.h"

#include <atomic>
#include <memory>
#include <vector>

#include <ATen/core/dispatch/Dispatcher.h>

namespace featx {
namespace {

std::atomic<bool> another_copy_serves{false};

}  // namespace

bool RegisterOnce(const char* probe, torch::Library::Kind kind, const std::function<void(torch::Library&)>& define,
                  const char* file, uint32_t line) {
  if (c10::Dispatcher::singleton().findSchema({probe, ""}).has_value()) {
    another_copy_serves = true;
    return false;
  }
  // Never destroyed: deregistering at exit while server threads still run
  // would pull ops from under them. Kept where a global reaches them, so
  // LeakSanitizer knows they are meant to live.
  static auto* libraries = new std::vector<std::unique_ptr<torch::Library>>();
  libraries->emplace_back(new torch::Library(kind, "featx", {}, file, line));
  define(*libraries->back());
  return true;
}

bool ThisCopyServesTheOps() { return !another_copy_serves; }

}  // namespace featx
