#include "tools/large_stack.h"

#include <pthread.h>

namespace featx {
namespace {

struct Call {
  absl::FunctionRef<int()> fn;
  int result = 0;
};

void* Trampoline(void* arg) {
  auto* call = static_cast<Call*>(arg);
  call->result = call->fn();
  return nullptr;
}

}  // namespace

int RunWithLargeStack(absl::FunctionRef<int()> fn, size_t stack_bytes) {
  Call call{fn};
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return fn();
  pthread_t thread;
  const bool started =
      pthread_attr_setstacksize(&attr, stack_bytes) == 0 && pthread_create(&thread, &attr, Trampoline, &call) == 0;
  pthread_attr_destroy(&attr);
  if (!started) return fn();
  pthread_join(thread, nullptr);
  return call.result;
}

}  // namespace featx
