// featx::ModeName and ParseMode (plugin/options.h).
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/did_you_mean.h"
#include "plugin/options.h"

namespace featx {

absl::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kDict:
      return "dict";
    case Mode::kTuple:
      return "tuple";
    case Mode::kTap:
      return "tap";
  }
  return "unknown";
}

absl::StatusOr<Mode> ParseMode(absl::string_view name) {
  for (Mode mode : {Mode::kDict, Mode::kTuple, Mode::kTap}) {
    if (name == ModeName(mode)) return mode;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown mode '", name, "'",
                                                 DidYouMean(std::string(name), {"dict", "tuple", "tap"}),
                                                 "; modes are dict, tuple and tap"));
}

}  // namespace featx
