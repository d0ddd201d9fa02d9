// "Did you mean" suggestions for names a user typed: node names, leaf module
// classes, flags.
//
//   ClosestNames("layer1.0.rleu", all_names, 3)  // {"layer1.0.relu", "layer1.0.relu_1", ...}
//   DidYouMean("layer1.0.rleu", all_names)       // "; did you mean 'layer1.0.relu' or ...?"
#pragma once

#include <string>
#include <vector>
#include "absl/strings/string_view.h"

namespace featx {

// Up to `max` candidates ordered by edit distance to `query` (ties keep the
// candidates' order); candidates that contain the query, or that the query
// contains, count as closer than their distance says.
std::vector<std::string> ClosestNames(absl::string_view query, const std::vector<std::string>& candidates,
                                      size_t max = 3);

// "; did you mean 'a', 'b' or 'c'?", or "" when there is nothing close.
std::string DidYouMean(absl::string_view query, const std::vector<std::string>& candidates, size_t max = 3);

}  // namespace featx
