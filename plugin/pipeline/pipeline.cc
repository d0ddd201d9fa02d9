#include "plugin/pipeline/pipeline.h"

#include <optional>

#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

// A pass the options leave out of the load-time pipeline.
bool LeftOut(const PassInfo& pass, const TracerOptions& tracer, std::optional<Mode> mode) {
  if (pass.name == "featx.warn_graph_differences" && tracer.suppress_diff_warning) return true;
  return mode.has_value() && pass.only_mode.has_value() && *pass.only_mode != *mode;
}

std::vector<std::string> Pipeline(const TracerOptions& tracer, std::optional<Mode> mode, Stage last) {
  std::vector<std::string> passes;
  for (const PassInfo& pass : ListPasses()) {
    if (pass.leaves_at > last) break;
    if (!IsFeatxPass(pass.name) || LeftOut(pass, tracer, mode)) continue;
    passes.push_back(pass.name);
  }
  return passes;
}

}  // namespace

const std::vector<std::string>& FeatxPassOrder() {
  // The one list of featx's passes: a new pass registers itself in its own
  // file (plugin/passes/) and takes its place here.
  static const auto* order = new std::vector<std::string>{
      "featx.inline_non_leaf",         // kModule -> kInlined
      "featx.fold_module_attributes",  //
      "featx.concrete_args",           //
      "featx.specialize_training",     // -> kSpecialized
      "featx.name_nodes",              // -> kNamed
      "featx.warn_graph_differences",  //
      "featx.choose_outputs",          // -> kChosen
      "featx.protect_aliases",         //
      "featx.restore_calls",           //
      "featx.insert_taps",             // -> kEmitted, tap mode
      "featx.return_dict",             // -> kEmitted, dict mode
      "featx.return_tuple",            // -> kEmitted, tuple mode
      "featx.prune",                   //
      "featx.bracket_request",         // tap mode
      "featx.merge_train_eval",        // -> kMerged
  };
  return *order;
}

std::vector<std::string> NamingPipeline(const TracerOptions& options) {
  return Pipeline(options, std::nullopt, Stage::kNamed);
}

std::vector<std::string> LoadTimePipeline(const ExtractorOptions& options) {
  return Pipeline(options, options.mode, Stage::kMerged);
}

}  // namespace featx
