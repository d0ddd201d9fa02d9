// torchvision's _warn_graph_differences, for featx's train and eval names.
//
//   WarnIfModesDiffer(train, eval);  // reaches the host's c10::WarningHandler
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace featx {

// torchvision's warning for train and eval lists that differ (which list is
// a subsequence of which, and the advice to choose nodes per mode), followed
// by the first position where they differ. nullopt when they are equal.
std::optional<std::string> GraphDifferenceMessage(const std::vector<std::string>& train,
                                                  const std::vector<std::string>& eval);

// Issues that message when the lists differ: to the host's log callback if
// it set one (plugin/log.h), else through TORCH_WARN.
void WarnIfModesDiffer(const std::vector<std::string>& train, const std::vector<std::string>& eval);

}  // namespace featx
