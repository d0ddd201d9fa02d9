#include "plugin/naming/graph_diff_warning.h"

#include <c10/util/Exception.h>

#include "absl/strings/str_cat.h"
#include "plugin/log.h"

namespace featx {
namespace {

// torchvision's _is_subseq(x, y): y is a subsequence of x.
bool IsSubsequence(const std::vector<std::string>& x, const std::vector<std::string>& y) {
  size_t i = 0;
  for (const std::string& item : x) {
    if (i < y.size() && item == y[i]) ++i;
  }
  return i == y.size();
}

std::string At(const std::vector<std::string>& names, size_t i) {
  return i < names.size() ? absl::StrCat("'", names[i], "'") : "nothing";
}

}  // namespace

std::optional<std::string> GraphDifferenceMessage(const std::vector<std::string>& train,
                                                  const std::vector<std::string>& eval) {
  if (train == eval) return std::nullopt;
  std::string msg;
  if (IsSubsequence(train, eval)) {
    msg =
        "NOTE: The nodes obtained by tracing the model in eval mode are a subsequence of those obtained in train "
        "mode. ";
  } else if (IsSubsequence(eval, train)) {
    msg =
        "NOTE: The nodes obtained by tracing the model in train mode are a subsequence of those obtained in eval "
        "mode. ";
  } else {
    msg = "The nodes obtained by tracing the model in train mode are different to those obtained in eval mode. ";
  }
  absl::StrAppend(&msg,
                  "When choosing nodes for feature extraction, you may need to specify output nodes for train and "
                  "eval mode separately.");
  size_t first = 0;
  while (first < train.size() && first < eval.size() && train[first] == eval[first]) ++first;
  absl::StrAppend(&msg, " First difference at node ", first, ": train has ", At(train, first), ", eval has ",
                  At(eval, first), ".");
  return msg;
}

void WarnIfModesDiffer(const std::vector<std::string>& train, const std::vector<std::string>& eval) {
  if (std::optional<std::string> message = GraphDifferenceMessage(train, eval)) Log(*message);
}

}  // namespace featx
