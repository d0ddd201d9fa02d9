// featx::GetGraphNodeNames (plugin/featx.h).
#include "plugin/featx.h"
#include "plugin/graph_diff_warning.h"
#include "plugin/leaf_modules.h"
#include "plugin/named_graph.h"
#include "plugin/status.h"

namespace featx {

absl::StatusOr<NodeNames> GetGraphNodeNames(const torch::jit::Module& module, const TracerOptions& options) {
  FEATX_ASSIGN_OR_RETURN(LeafModules leaves, LeafModules::Create(module, options.leaf_modules));
  FEATX_ASSIGN_OR_RETURN(TrainAndEval graphs, TraceTrainAndEval(module, leaves));
  NodeNames names{graphs.train.Names(), graphs.eval.Names()};
  if (!options.suppress_diff_warning) WarnIfModesDiffer(names.train, names.eval);
  return names;
}

}  // namespace featx
