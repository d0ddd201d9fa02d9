#include "plugin/did_you_mean.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace featx {
namespace {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::string> ClosestNames(absl::string_view query, const std::vector<std::string>& candidates, size_t max) {
  // Beyond this distance a suggestion is noise rather than help.
  const size_t limit = std::max<size_t>(3, query.size() / 2);
  std::vector<std::pair<size_t, size_t>> scored;  // (score, index)
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& c = candidates[i];
    size_t score = EditDistance(query, c);
    if (!query.empty() && (absl::StrContains(c, query) || absl::StrContains(query, c)))
      score = std::min<size_t>(score, 1);
    if (score <= limit) scored.emplace_back(score, i);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [score, index] : scored) {
    if (out.size() == max) break;
    if (std::find(out.begin(), out.end(), candidates[index]) == out.end()) out.push_back(candidates[index]);
  }
  return out;
}

std::string DidYouMean(absl::string_view query, const std::vector<std::string>& candidates, size_t max) {
  std::vector<std::string> close = ClosestNames(query, candidates, max);
  if (close.empty()) return "";
  std::string out = "; did you mean ";
  for (size_t i = 0; i < close.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, i + 1 == close.size() ? " or " : ", ");
    absl::StrAppend(&out, "'", close[i], "'");
  }
  return absl::StrCat(out, "?");
}

}  // namespace featx
