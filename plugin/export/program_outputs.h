// Adds outputs to an exported program (torch.export's serialized program,
// `models/model.json`): each chosen value is cloned right after the node
// that makes it, so a later in-place op cannot change what is returned, and
// the clone becomes a user output, marked as featx's (kFeatxOutputKey). The graph's outputs, the signature's
// output specs and the output tree spec (`out_spec`) change together;
// everything else is kept.
//
//   FEATX_ASSIGN_OR_RETURN(nlohmann::json rewritten,
//                          AddProgramOutputs(archive.program(), {{"feat", "layer4", "relu__15"}}, Mode::kDict,
//                                            &manifest_entries));
//   // rewritten's program returns {"feat": <layer4's value>}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "plugin/export/export_names.h"
#include "plugin/options.h"

namespace featx {

struct ProgramOutput {
  // The dict key, or the tuple slot's name in the manifest.
  std::string name;
  // The node it comes from (`layer1.0.relu_1`).
  std::string node;
  // The program's value (ProgramNode::value).
  std::string value;
};

// The program with `outputs` added, by mode:
//  - kDict: it returns {name: value} of `outputs` only, and nodes after the
//    last chosen value are dropped (unless the program also writes buffers
//    or inputs, whose outputs stay);
//  - kTuple: it returns one flat tuple, its own outputs (named `output`,
//    `output.0`, `output.key`, ... from the output tree) then `outputs`.
// `emitted` gets what it returns, in order. InvalidArgument for kTap (an
// exported program cannot call featx's op), for a value that is not a
// tensor of the program, or for a program that is not torch.export's schema.
[[nodiscard]] absl::StatusOr<nlohmann::json> AddProgramOutputs(const nlohmann::json& program,
                                                               const std::vector<ProgramOutput>& outputs, Mode mode,
                                                               std::vector<ManifestEntry>* emitted);

}  // namespace featx
