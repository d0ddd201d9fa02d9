// The named graph: a module's forward as FX would trace it in one training
// mode, with torchvision's node names (featx's naming passes, run in order).
//
//   FEATX_ASSIGN_OR_RETURN(NamedGraph eval, TraceNamedGraph(module, {"MyBlock"}, /*training=*/false));
//   for (const NamedNode& n : eval.nodes) std::cout << n.name << "\n";
#pragma once

#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "plugin/rewrite.h"

namespace featx {

struct TrainAndEval {
  NamedGraph train;
  // The same graph as `train` when the model reads `training` only inside
  // leaf modules, so the two modes cannot differ.
  NamedGraph eval;
};

// Both modes, inlining once. `leaf_modules` are extra leaf classes
// (plugin/leaf_modules.h). `module` is not changed; no warning is issued.
[[nodiscard]] absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module,
                                                             const std::vector<std::string>& leaf_modules);

// One mode.
[[nodiscard]] absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module,
                                                         const std::vector<std::string>& leaf_modules, bool training);

}  // namespace featx
