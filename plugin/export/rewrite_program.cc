#include "plugin/export/rewrite_program.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "plugin/export/export_names.h"
#include "plugin/export/program_outputs.h"
#include "plugin/host/pending_file.h"
#include "plugin/naming/return_nodes.h"
#include "plugin/naming/tracer_presets.h"
#include "plugin/status.h"

namespace featx {
namespace {

absl::StatusOr<std::vector<ProgramNode>> Nodes(const Pt2Archive& archive, const TracerOptions& options) {
  // A preset's leaf functions are gone: export inlines every function.
  FEATX_ASSIGN_OR_RETURN(const TracerPreset* preset, FindTracerPreset(options.tracer));
  FEATX_ASSIGN_OR_RETURN(LeafModules leaves,
                         ProgramLeafModules(archive.program(), options.leaf_modules, preset->leaf_modules));
  return ProgramNodes(archive.program(), leaves);
}

// A module export called but left no node of (its module call graph lists
// it): the identity in eval, as dropout and stochastic depth are. torchvision
// names it; its value is its input's.
absl::Status CheckNoDroppedModules(const nlohmann::json& program, const std::vector<ReturnNode>& wanted,
                                   const std::vector<std::string>& names) {
  absl::flat_hash_set<std::string> called;
  const nlohmann::json graph_module = program.value("graph_module", nlohmann::json::object());
  for (const nlohmann::json& entry : graph_module.value("module_call_graph", nlohmann::json::array())) {
    if (entry.contains("fqn") && entry["fqn"].is_string()) called.insert(entry["fqn"].get<std::string>());
  }
  for (const ReturnNode& want : wanted) {
    if (want.spec.empty() || !called.contains(want.spec)) continue;
    const bool named = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
      return name == want.spec || absl::StartsWith(name, absl::StrCat(want.spec, "."));
    });
    if (!named) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node '", want.spec,
          "' is a module the exported program has no operation of: export drops a module that is the identity "
          "in eval (dropout, stochastic depth); its value is its input's, so choose the node before it "
          "(`featx names` lists them)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckProgramOptions(const ExtractorOptions& options) {
  if (!options.leaf_functions.empty() || !options.concrete_args.empty()) {
    return absl::InvalidArgumentError(
        "an exported program takes --featx_leaf_modules and --featx_tracer only: export has already inlined "
        "functions and fixed arguments");
  }
  if (!options.train_return_nodes.empty() || !options.eval_return_nodes.empty()) {
    return absl::InvalidArgumentError(
        "an exported program has one graph (the mode it was exported in): choose nodes with --return_nodes");
  }
  if (!options.passes.empty()) {
    return absl::InvalidArgumentError("--featx_passes rewrite TorchScript graphs, not exported programs");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ProgramNodeNames(const Pt2Archive& archive, const TracerOptions& options) {
  FEATX_ASSIGN_OR_RETURN(std::vector<ProgramNode> nodes, Nodes(archive, options));
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (ProgramNode& node : nodes) names.push_back(std::move(node.name));
  return names;
}

absl::StatusOr<std::vector<std::string>> ProgramFileNodeNames(const std::string& path,
                                                              const ExtractorOptions& options) {
  FEATX_RETURN_IF_ERROR(CheckProgramOptions(options));
  FEATX_ASSIGN_OR_RETURN(const Pt2Archive archive, Pt2Archive::Open(path));
  return ProgramNodeNames(archive, options);
}

absl::StatusOr<nlohmann::json> RewriteProgram(const Pt2Archive& archive, const ExtractorOptions& options,
                                              OutputManifest* manifest) {
  FEATX_RETURN_IF_ERROR(CheckProgramOptions(options));
  FEATX_ASSIGN_OR_RETURN(std::vector<ReturnNode> wanted, ParseReturnNodes(options.return_nodes));
  FEATX_ASSIGN_OR_RETURN(std::vector<ProgramNode> nodes, Nodes(archive, options));
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const ProgramNode& node : nodes) names.push_back(node.name);
  FEATX_RETURN_IF_ERROR(CheckNoDroppedModules(archive.program(), wanted, names));
  FEATX_ASSIGN_OR_RETURN(
      std::vector<ChosenName> chosen,
      ResolveReturnNodeNames(wanted, names, absl::StrCat("the exported program '", archive.path(), "'")));
  std::vector<ProgramOutput> outputs;
  outputs.reserve(chosen.size());
  for (ChosenName& choice : chosen) {
    outputs.push_back({std::move(choice.output_name), nodes[choice.index].name, nodes[choice.index].value});
  }
  std::vector<ManifestEntry> emitted;
  FEATX_ASSIGN_OR_RETURN(nlohmann::json program, AddProgramOutputs(archive.program(), outputs, options.mode, &emitted));
  if (manifest != nullptr) {
    manifest->mode = options.mode;
    manifest->train = emitted;
    manifest->eval = std::move(emitted);
  }
  return program;
}

absl::StatusOr<OutputManifest> RewriteProgramFile(const std::string& path, const std::string& output,
                                                  const ExtractorOptions& options) {
  FEATX_ASSIGN_OR_RETURN(const Pt2Archive archive, Pt2Archive::Open(path));
  OutputManifest manifest;
  FEATX_ASSIGN_OR_RETURN(const nlohmann::json program, RewriteProgram(archive, options, &manifest));
  FEATX_ASSIGN_OR_RETURN(PendingFile file, PendingFile::Create(output));
  FEATX_RETURN_IF_ERROR(archive.WriteWithProgram(program, file.path()));
  FEATX_RETURN_IF_ERROR(file.Commit());
  return manifest;
}

}  // namespace featx
