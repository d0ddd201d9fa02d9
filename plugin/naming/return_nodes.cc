#include "plugin/naming/return_nodes.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "plugin/did_you_mean.h"
#include "plugin/status.h"

namespace featx {
namespace {

// The offset of the first byte that is not part of well-formed UTF-8
// (Unicode 3.9, table 3-7: no overlong forms, surrogates or code points above
// U+10FFFF), or npos.
size_t FirstInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    size_t length = 1;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return i;
    for (size_t k = 2; k < length; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return i;
    }
    i += length;
  }
  return absl::string_view::npos;
}

// torchvision: ".".join(name.split(".")[:depth + 1]) == spec.
bool IsUnder(absl::string_view name, absl::string_view spec) {
  return name == spec || (absl::StartsWith(name, spec) && name.size() > spec.size() && name[spec.size()] == '.');
}

}  // namespace

absl::StatusOr<std::vector<ReturnNode>> ParseReturnNodes(const std::vector<std::string>& specs) {
  if (specs.empty()) {
    return absl::InvalidArgumentError("no return nodes given; choose at least one node (`featx names` lists them)");
  }
  std::vector<ReturnNode> parsed;
  absl::flat_hash_map<std::string, std::string> spec_of_output;
  for (const std::string& text : specs) {
    ReturnNode node;
    const size_t colon = text.find(':');
    node.spec = text.substr(0, colon);
    node.output_name = colon == std::string::npos ? node.spec : text.substr(colon + 1);
    if (node.spec.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("return node '", text, "' has no node name before ':'"));
    }
    if (node.output_name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("return node '", text,
                                                     "' has an empty output name after ':'; write '", node.spec,
                                                     "' or '", node.spec, ":name'"));
    }
    // Output names become dict keys, JSON and Python strings (torch.load
    // decodes them as UTF-8).
    if (const size_t bad = FirstInvalidUtf8(node.output_name); bad != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("output name '", absl::CHexEscape(node.output_name),
                                                     "' is not valid UTF-8 (byte ", bad, "); output names become ",
                                                     "dict keys, JSON and Python strings"));
    }
    auto [it, inserted] = spec_of_output.emplace(node.output_name, text);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("output name '", node.output_name, "' is given twice ('",
                                                     it->second, "' and '", text, "'); output names must be unique"));
    }
    parsed.push_back(std::move(node));
  }
  return parsed;
}

bool Choices::Same() const {
  return std::equal(train.begin(), train.end(), eval.begin(), eval.end(), [](const ReturnNode& a, const ReturnNode& b) {
    return a.spec == b.spec && a.output_name == b.output_name;
  });
}

absl::StatusOr<Choices> ParseChoices(const std::vector<std::string>& return_nodes,
                                     const std::vector<std::string>& train_return_nodes,
                                     const std::vector<std::string>& eval_return_nodes) {
  const bool per_mode = !train_return_nodes.empty() || !eval_return_nodes.empty();
  if (return_nodes.empty() && !per_mode) {
    return absl::InvalidArgumentError(
        "no return nodes given: set return_nodes, or train_return_nodes and eval_return_nodes together");
  }
  if (!return_nodes.empty() && per_mode) {
    return absl::InvalidArgumentError(
        "return_nodes and train_return_nodes/eval_return_nodes are exclusive: give return_nodes for both modes, "
        "or the two per-mode lists");
  }
  if (per_mode && (train_return_nodes.empty() || eval_return_nodes.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("train_return_nodes and eval_return_nodes go together, but only ",
                     train_return_nodes.empty() ? "eval_return_nodes" : "train_return_nodes", " is given"));
  }
  Choices choices;
  FEATX_ASSIGN_OR_RETURN(choices.train, ParseReturnNodes(per_mode ? train_return_nodes : return_nodes));
  FEATX_ASSIGN_OR_RETURN(choices.eval, ParseReturnNodes(per_mode ? eval_return_nodes : return_nodes));
  return choices;
}

absl::StatusOr<std::vector<ChosenName>> ResolveReturnNodeNames(const std::vector<ReturnNode>& wanted,
                                                               const std::vector<std::string>& names,
                                                               absl::string_view where, absl::string_view hint) {
  std::vector<ChosenName> chosen;
  chosen.reserve(wanted.size());
  for (const ReturnNode& want : wanted) {
    auto last = std::find_if(names.rbegin(), names.rend(), [&](const std::string& n) { return IsUnder(n, want.spec); });
    if (last == names.rend()) {
      return absl::InvalidArgumentError(absl::StrCat("node '", want.spec, "' is not in ", where,
                                                     DidYouMean(want.spec, names), " (`featx names` lists them", hint,
                                                     ")"));
    }
    chosen.push_back({want.output_name, static_cast<size_t>(std::distance(last, names.rend())) - 1});
  }
  std::stable_sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return chosen;
}

absl::StatusOr<std::vector<ChosenNode>> ResolveReturnNodes(const std::vector<ReturnNode>& wanted,
                                                           const std::vector<NamedNode>& nodes,
                                                           absl::string_view mode) {
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const NamedNode& n : nodes) names.push_back(n.name);
  FEATX_ASSIGN_OR_RETURN(std::vector<ChosenName> chosen,
                         ResolveReturnNodeNames(wanted, names, absl::StrCat("the model's ", mode, "-mode graph"),
                                                "; train and eval nodes may differ"));
  std::vector<ChosenNode> out;
  out.reserve(chosen.size());
  for (ChosenName& choice : chosen) out.push_back({std::move(choice.output_name), &nodes[choice.index]});
  return out;
}

}  // namespace featx
