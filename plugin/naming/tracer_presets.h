// Named sets of leaf modules and leaf functions: a library's registries of
// what its FX feature extraction keeps as single nodes, so that its users
// pass one flag (--featx_tracer=timm) where timm passes torchvision its
// tracer_kwargs. The model's names then equal the library's own
// get_graph_node_names.
//
//   FEATX_ASSIGN_OR_RETURN(TracerOptions tracer, WithTracerPreset(module, options));
//
// Adding a library: a kPresets entry in tracer_presets.cc with its classes
// and functions by qualified Python name, copied from the library's registry
// at a pinned version, and a test comparing the entry with the live registry
// (as tests/python/timm_test.py does for timm), so an upgrade that changes
// the registry fails there.
#pragma once

#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/options.h"

namespace featx {

struct TracerPreset {
  const char* name;
  // What the library's docs call it, for help text.
  const char* description;
  std::vector<std::string> leaf_modules;
  std::vector<std::string> leaf_functions;
};

// Every preset, in the order help lists them.
const std::vector<TracerPreset>& TracerPresets();

// The preset called `name` ("" is "torchvision", which adds nothing); an
// unknown name is an InvalidArgument error listing the presets.
absl::StatusOr<const TracerPreset*> FindTracerPreset(absl::string_view name);

// `options` with the preset options.tracer names added to its leaf modules
// and functions: those `module` has (a registry lists the classes and
// functions of all of a library's models, and the library's tracer ignores
// those a model lacks). An empty name or "torchvision" adds nothing; an
// unknown name is an InvalidArgument error listing the presets.
absl::StatusOr<TracerOptions> WithTracerPreset(const torch::jit::Module& module, const TracerOptions& options);

}  // namespace featx
