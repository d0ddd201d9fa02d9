// featx's load-time rewrite as an ordered list of registered pass names
// (plugin/pipeline/pass_registry.h): what InstrumentInPlace and
// CreateFeatureExtractor run, and what a host's own pipeline starts from.
// pipeline.cc holds the one list of featx's passes in the order they run;
// each pass registers itself in its own file (plugin/passes/README.md).
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

// Every featx pass, in the order a rewrite runs them (each mode's emitting
// pass among them).
const std::vector<std::string>& FeatxPassOrder();

// Trace and name: what get_graph_node_names needs (the passes that end at
// named graphs; featx.warn_graph_differences unless suppressed).
std::vector<std::string> NamingPipeline(const TracerOptions& options);

// The whole rewrite for options.mode: FeatxPassOrder without the passes of
// other modes.
std::vector<std::string> LoadTimePipeline(const ExtractorOptions& options);

}  // namespace featx
