// Where torch's C++ API differs between the libtorch versions featx builds
// against (Debian's 1.13 through PyPI's 2.x), the difference lives here and
// nowhere else: passes, tools and tests use these names, never an #if on the
// torch version.
//
//   class HostLog : public featx::compat::WarningHandler {
//     void Handle(const std::string& message) override { log_.push_back(message); }
//   };
//   HostLog log;
//   featx::compat::WarningHandlerGuard guard(&log);  // TORCH_WARN now reaches `log`
//
// tests/compat/torch_compat_test.cc checks each entry on whichever libtorch
// the build chose (FEATX_LIBTORCH).
#pragma once

#include <string>

#include <c10/util/Exception.h>
#include <torch/version.h>

// True when the libtorch being compiled against is `major.minor` or newer.
#define FEATX_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace featx::compat {

// The version featx was compiled against, "1.13.0" or "2.15.0"; a host that
// loads libfeatx.so must run the same major.minor.
inline constexpr char kTorchVersion[] = TORCH_VERSION;

// A host's warning handler. torch 2.0 passes a c10::Warning to
// WarningHandler::process; 1.13 passed its location, message and verbatim flag
// as three arguments. Derive from this and implement Handle to see the
// message either way.
class WarningHandler : public c10::WarningHandler {
 public:
  // One warning's message, as TORCH_WARN formatted it.
  virtual void Handle(const std::string& message) = 0;

#if FEATX_TORCH_AT_LEAST(2, 0)
  void process(const c10::Warning& warning) final { Handle(warning.msg()); }
#else
  void process(const c10::SourceLocation& /*where*/, const std::string& message, bool /*verbatim*/) final {
    Handle(message);
  }
#endif
};

// Installing a handler: namespace c10::Warning in 1.13, c10::WarningUtils in
// 2.x (where c10::Warning became the warning's class).
#if FEATX_TORCH_AT_LEAST(2, 0)
namespace warning_api = ::c10::WarningUtils;
#else
namespace warning_api = ::c10::Warning;
#endif

// Installs a handler for the current scope and restores the previous one.
using WarningHandlerGuard = warning_api::WarningHandlerGuard;

inline void SetWarningHandler(c10::WarningHandler* handler) { warning_api::set_warning_handler(handler); }
inline c10::WarningHandler* GetWarningHandler() { return warning_api::get_warning_handler(); }

}  // namespace featx::compat
