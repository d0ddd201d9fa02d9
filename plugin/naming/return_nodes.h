// Which nodes a feature extractor returns, as torchvision's `return_nodes`.
//
// A spec is a node name or a prefix of names: `layer1` means the last node,
// in execution order, whose name is `layer1` or starts with `layer1.`. Each
// spec may carry the name of its output (`layer1:feat1`); without one the
// output is named after the spec. Names are matched literally.
//
//   FEATX_ASSIGN_OR_RETURN(std::vector<ReturnNode> wanted, ParseReturnNodes({"layer1:feat1", "fc"}));
//   FEATX_ASSIGN_OR_RETURN(std::vector<ChosenNode> chosen, ResolveReturnNodes(wanted, eval.nodes, "eval"));
//   // chosen[0].output_name == "feat1", chosen[0].node->name == "layer1.1.relu_1"
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/naming/named_graph.h"

namespace featx {

struct ReturnNode {
  std::string spec;
  std::string output_name;
};

// Parses "spec" and "spec:output_name". Errors: an empty list, an empty spec
// or output name, an output name given twice.
[[nodiscard]] absl::StatusOr<std::vector<ReturnNode>> ParseReturnNodes(const std::vector<std::string>& specs);

// The outputs to emit in each training mode.
struct Choices {
  std::vector<ReturnNode> train;
  std::vector<ReturnNode> eval;

  // Both modes choose the same specs under the same output names.
  bool Same() const;
};

// torchvision's argument rules: `return_nodes` for both modes, or
// `train_return_nodes` and `eval_return_nodes` together, never both kinds.
[[nodiscard]] absl::StatusOr<Choices> ParseChoices(const std::vector<std::string>& return_nodes,
                                                   const std::vector<std::string>& train_return_nodes,
                                                   const std::vector<std::string>& eval_return_nodes);

struct ChosenName {
  std::string output_name;
  // The chosen name's position in the list resolved against.
  size_t index;
};

// The name each spec stands for in `names` (in graph order), sorted by
// position. An unknown spec is an InvalidArgument error: "node 'x' is not in
// <where>; did you mean ... (`featx names` lists them<hint>)".
[[nodiscard]] absl::StatusOr<std::vector<ChosenName>> ResolveReturnNodeNames(const std::vector<ReturnNode>& wanted,
                                                                             const std::vector<std::string>& names,
                                                                             absl::string_view where,
                                                                             absl::string_view hint = "");

struct ChosenNode {
  std::string output_name;
  const NamedNode* node;
};

// The node each spec stands for, in graph order (torchvision orders its
// outputs so). Two specs may choose the same node; both outputs are kept.
// An unknown spec is an InvalidArgument error naming the spec, the mode
// ("train" or "eval") and the closest node names.
[[nodiscard]] absl::StatusOr<std::vector<ChosenNode>> ResolveReturnNodes(const std::vector<ReturnNode>& wanted,
                                                                         const std::vector<NamedNode>& nodes,
                                                                         absl::string_view mode);

}  // namespace featx
