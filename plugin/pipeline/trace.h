// A module's forward as FX would trace it, in each training mode, with
// torchvision's node names: featx's naming passes (NamingPipeline), run in
// order on a copy.
//
//   FEATX_ASSIGN_OR_RETURN(NamedGraph eval, TraceNamedGraph(module, {"MyBlock"}, /*training=*/false));
//   for (const NamedNode& n : eval.nodes) std::cout << n.name << "\n";
#pragma once

#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/status/statusor.h"
#include "plugin/naming/named_graph.h"
#include "plugin/options.h"

namespace featx {

// Both modes, inlining once, with torchvision's warning when their names
// differ (unless options.suppress_diff_warning). `module` is not changed.
[[nodiscard]] absl::StatusOr<TrainAndEval> TraceTrainAndEval(const torch::jit::Module& module,
                                                             const TracerOptions& options);

// One mode, without the warning; `leaf_modules` are extra leaf classes
// (plugin/naming/leaf_modules.h).
[[nodiscard]] absl::StatusOr<NamedGraph> TraceNamedGraph(const torch::jit::Module& module,
                                                         const std::vector<std::string>& leaf_modules, bool training);

}  // namespace featx
