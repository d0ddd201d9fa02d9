// Fuzzes exported programs' JSON (an archive's models/model.json): naming
// the nodes and adding every named value as an output, in dict and tuple
// mode, give a program or an error, never a crash; a program made has as
// many output specs as graph outputs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin/export/export_names.h"
#include "plugin/export/program_outputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json program = nlohmann::json::parse(data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (program.is_discarded()) return 0;
  absl::StatusOr<featx::LeafModules> leaves = featx::ProgramLeafModules(program, {});
  if (!leaves.ok()) return 0;
  absl::StatusOr<std::vector<featx::ProgramNode>> nodes = featx::ProgramNodes(program, *leaves);
  if (!nodes.ok()) return 0;
  std::vector<featx::ProgramOutput> outputs;
  for (const featx::ProgramNode& node : *nodes) outputs.push_back({node.name, node.name, node.value});
  for (featx::Mode mode : {featx::Mode::kDict, featx::Mode::kTuple}) {
    std::vector<featx::ManifestEntry> emitted;
    absl::StatusOr<nlohmann::json> made = featx::AddProgramOutputs(program, outputs, mode, &emitted);
    if (!made.ok()) continue;
    const nlohmann::json& module = (*made)["graph_module"];
    if (module["graph"]["outputs"].size() != module["signature"]["output_specs"].size()) std::abort();
  }
  return 0;
}
