// featx's load-time rewrite as an ordered list of registered pass names
// (plugin/pass_registry.h): what InstrumentInPlace and
// CreateFeatureExtractor run, and what a host's own pipeline starts from.
//
//   std::vector<std::string> passes = featx::LoadTimePipeline(options);
//   // featx.inline_non_leaf, featx.fold_module_attributes, ..., featx.merge_train_eval
//   passes.insert(passes.begin() + 4, "myhost.my_pass");   // a pass the host registered
//   FEATX_RETURN_IF_ERROR(featx::RunPasses(passes, rewrite));
#pragma once

#include <string>
#include <vector>

#include "plugin/options.h"

namespace featx {

// Trace and name: what get_graph_node_names needs.
std::vector<std::string> NamingPipeline(const TracerOptions& options);

// The whole rewrite for options.mode.
std::vector<std::string> LoadTimePipeline(const ExtractorOptions& options);

}  // namespace featx
