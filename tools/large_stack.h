// Running a command on a thread with a large stack.
//
// torch::jit::load and featx's passes recurse once per level of module
// nesting, and a deployed model may nest thousands of levels deep: on the
// usual 8 MB main-thread stack (less under a container's `ulimit -s`) that
// is a SIGSEGV inside libtorch. The command line runs its command here
// instead, so deep models load.
//
//   int rc = featx::RunWithLargeStack([&] { return Main(argc, argv); });
#pragma once

#include <cstddef>

#include "absl/functional/function_ref.h"

namespace featx {

inline constexpr size_t kLargeStackBytes = size_t{1} << 30;

// Runs `fn` on a new thread whose stack is `stack_bytes` (reserved, not
// committed: pages are touched only as deep as the recursion goes) and
// returns its result; runs it on the calling thread if no such thread can
// be made. Thread-local state (torch's warning handler, grad mode) is the
// new thread's: set it inside `fn`.
int RunWithLargeStack(absl::FunctionRef<int()> fn, size_t stack_bytes = kLargeStackBytes);

}  // namespace featx
