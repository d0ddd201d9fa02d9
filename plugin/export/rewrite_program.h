// featx's API for exported programs (torch.export, `.pt2`): torchvision's
// node names and a program that also returns the chosen nodes, read and
// written without Python (docs/export.md).
//
//   FEATX_ASSIGN_OR_RETURN(Pt2Archive archive, Pt2Archive::Open("resnet18.pt2"));
//   FEATX_ASSIGN_OR_RETURN(std::vector<std::string> names, ProgramNodeNames(archive, {}));
//   ExtractorOptions options;
//   options.return_nodes = {"layer4:feat"};
//   OutputManifest manifest;
//   FEATX_ASSIGN_OR_RETURN(nlohmann::json program, RewriteProgram(archive, options, &manifest));
//   FEATX_RETURN_IF_ERROR(archive.WriteWithProgram(program, "resnet18_features.pt2"));
//   // torch.export.load("resnet18_features.pt2").module()(x) == {"feat": ...}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "plugin/export/pt2_archive.h"
#include "plugin/options.h"

namespace featx {

// An exported program has one graph, already traced: InvalidArgument for
// the options that do not apply to it (leaf functions, concrete arguments,
// a tracer, per-mode return nodes, passes).
[[nodiscard]] absl::Status CheckProgramOptions(const ExtractorOptions& options);

// The program's node names under torchvision's rules, leaf modules from
// `options` (export_names.h).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ProgramNodeNames(const Pt2Archive& archive,
                                                                        const TracerOptions& options);

// CheckProgramOptions, Pt2Archive::Open and ProgramNodeNames in one.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ProgramFileNodeNames(const std::string& path,
                                                                            const ExtractorOptions& options);

// The archive's program returning options.return_nodes in options.mode
// (dict or tuple; program_outputs.h). The manifest's train and eval lists
// are both what it returns. Errors: the options' (CheckProgramOptions,
// return_nodes specs), an unknown node (with the closest names), a node
// that is not a tensor, tap mode.
[[nodiscard]] absl::StatusOr<nlohmann::json> RewriteProgram(const Pt2Archive& archive, const ExtractorOptions& options,
                                                            OutputManifest* manifest);

// RewriteProgram, written to `output` whole or not at all (the same
// directory's temporary file, renamed on success). Returns the manifest.
[[nodiscard]] absl::StatusOr<OutputManifest> RewriteProgramFile(const std::string& path, const std::string& output,
                                                                const ExtractorOptions& options);

}  // namespace featx
