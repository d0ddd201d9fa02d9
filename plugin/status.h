// Status plumbing shared by featx's passes and API.
//
// Debian's abseil (20220623) has no status macros; these are the two every
// Status-returning function needs. `TorchCall` runs code that may throw
// c10::Error and turns it into a Status with the same message, which is how
// torch errors cross featx's public boundary (docs/design.md, "Host integration").
//
// One mapping of errors to codes, and of codes to exit codes (ExitCode):
//   2, the request is wrong: InvalidArgument (a flag, node, mode or file
//      content featx or torch refuses), NotFound (a file, directory, pass
//      or node named that is not there), FailedPrecondition (steps asked in
//      the wrong order), OutOfRange.
//   1, the request could not be done: I/O failing on a path that is there
//      (PermissionDenied, Unavailable: ErrnoStatus), or featx itself
//      (Internal: a libtorch INTERNAL ASSERT, a pass that throws, anything
//      unexpected).
// A torch call takes the code of what it was asked: TorchCall's default,
// InvalidArgument, for torch refusing what the user gave (a file that is not
// a model, a tensor of the wrong shape, a model a pass cannot rewrite);
// Unavailable for a save; Internal for a c10::Error a pass lets through
// (RunPass) and for libtorch's INTERNAL ASSERTs.
//
//   absl::Status Load(...) {
//     FEATX_RETURN_IF_ERROR(CheckFlags(...));
//     FEATX_ASSIGN_OR_RETURN(torch::jit::Module m, TorchCall([&] { return torch::jit::load(path); }));
//   }
#pragma once

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FEATX_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status featx_status_ = (expr);         \
    if (!featx_status_.ok()) return featx_status_; \
  } while (false)

#define FEATX_STATUS_CONCAT_INNER_(a, b) a##b
#define FEATX_STATUS_CONCAT_(a, b) FEATX_STATUS_CONCAT_INNER_(a, b)

#define FEATX_ASSIGN_OR_RETURN(lhs, expr) \
  FEATX_ASSIGN_OR_RETURN_IMPL_(FEATX_STATUS_CONCAT_(featx_statusor_, __LINE__), lhs, expr)

#define FEATX_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return statusor.status();           \
  lhs = *std::move(statusor)

namespace featx {

// A failed system call's error as a Status: `what: strerror(error)`, coded
// by whose the problem is (see above).
inline absl::Status ErrnoStatus(int error, const std::string& what) {
  const std::string message = what + ": " + std::strerror(error);
  if (error == ENOENT || error == ENOTDIR) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM || error == EROFS) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

// The exit code a command line ends with for `status` (see above).
inline int ExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 2;
    default:
      return 1;
  }
}

// Runs `fn`; a c10::Error (or any std::exception, or anything thrown)
// becomes an error Status with its message and no C++ backtrace, so nothing
// unwinds through featx's API or its C entry points. `fn` returns void, a
// value, a Status or a StatusOr. A c10::Error is `torch_error` (torch
// refusing the caller's input, e.g. a file that is not a model) unless it is
// a libtorch INTERNAL ASSERT; anything else thrown is Internal.
template <typename Fn>
auto TorchCall(Fn&& fn, absl::StatusCode torch_error = absl::StatusCode::kInvalidArgument) {
  using R = std::invoke_result_t<Fn>;
  using Result = std::conditional_t<
      std::is_void_v<R>, absl::Status,
      std::conditional_t<std::is_same_v<R, absl::Status>, absl::Status,
                         std::conditional_t<std::is_convertible_v<absl::Status, R>, R, absl::StatusOr<R>>>>;
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      return Result(absl::OkStatus());
    } else {
      return Result(fn());
    }
  } catch (const c10::Error& e) {
    // An internal assert is libtorch saying featx used it wrongly.
    const char* message = e.what_without_backtrace();
    const bool internal = std::strstr(message, "INTERNAL ASSERT FAILED") != nullptr;
    return Result(absl::Status(internal ? absl::StatusCode::kInternal : torch_error, message));
  } catch (const std::exception& e) {
    return Result(absl::InternalError(e.what()));
  } catch (...) {
    return Result(absl::InternalError("unknown exception"));
  }
}

}  // namespace featx
