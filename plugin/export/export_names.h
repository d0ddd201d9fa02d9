// torchvision's node names for an exported program (torch.export), computed
// from the module scopes export records on each node (`nn_module_stack`):
// the names `get_graph_node_names` gives the eager model, where export's
// ATen graph has a node for what FX records (docs/export.md lists where it
// has none).
//
//   FEATX_ASSIGN_OR_RETURN(Pt2Archive archive, Pt2Archive::Open("resnet18.pt2"));
//   FEATX_ASSIGN_OR_RETURN(LeafModules leaves, ProgramLeafModules(archive.program(), {}));
//   FEATX_ASSIGN_OR_RETURN(std::vector<ProgramNode> nodes, ProgramNodes(archive.program(), leaves));
//   nodes[1].name;    // "conv1"
//   nodes[1].value;   // "conv2d": the graph value the node's output is
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "plugin/naming/leaf_modules.h"

namespace featx {

// The nodes featx adds to a program (plugin/export/program_outputs.h) carry
// this key in their metadata's "custom" object; names skip them, so a
// rewritten program has its original's names.
inline constexpr char kFeatxOutputKey[] = "featx_output";

struct ProgramNode {
  // torchvision's name (`layer1.0.relu_1`).
  std::string name;
  // The name of the program's value that is the node's output: an input's
  // (`x`, a parameter's `p_fc_weight`) or a node's (`relu__2`); empty when
  // it is not a tensor.
  std::string value;
};

// The leaf modules for `program`: torchvision's default, `user_leaves`,
// each of which must be a module class the program's scopes name (an
// InvalidArgument error lists the closest), and those of `library_leaves`
// (a tracer preset's registry, plugin/naming/tracer_presets.h) it has.
[[nodiscard]] absl::StatusOr<LeafModules> ProgramLeafModules(const nlohmann::json& program,
                                                             const std::vector<std::string>& user_leaves,
                                                             const std::vector<std::string>& library_leaves = {});

// The program's nodes in graph order, under torchvision's rules:
//  - its user inputs, by name;
//  - a call of a leaf module (all nodes in its scope, one call of it) is one
//    node named by the module's path, its output the last node's;
//  - a parameter or buffer read in traced code is FX's get_attr node,
//    `<scope>.<path_with_underscores>`, before its first use;
//  - other nodes are `<scope>.<op>`, op the torch function export records
//    (`torch_fn`: `add` for `out += x`), the nodes of one function call one
//    node; then torchvision's local `_N` suffixes.
// InvalidArgument when the program is not torch.export's schema.
[[nodiscard]] absl::StatusOr<std::vector<ProgramNode>> ProgramNodes(const nlohmann::json& program,
                                                                    const LeafModules& leaves);

}  // namespace featx
