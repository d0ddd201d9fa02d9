// featx's passes by stable name, so that a host's own pipeline can list them
// and run them in its own order, and the load-time rewrite is one ordered
// run of them (plugin/pipeline/pipeline.h). Each featx pass registers itself
// in its own file in plugin/passes/ (how to add one: plugin/passes/README.md);
// `featx passes` and torch.ops.featx.list_passes() list them.
//
//   for (const featx::PassInfo& pass : featx::ListPasses()) std::cout << pass.name << "\n";
//   FEATX_ASSIGN_OR_RETURN(featx::Rewrite rewrite, featx::Rewrite::Start(module, options));
//   FEATX_RETURN_IF_ERROR(featx::RunPasses(featx::LoadTimePipeline(options), rewrite));
//   FEATX_ASSIGN_OR_RETURN(module, featx::WithForward(module, rewrite.forward));
//
// Each pass runs at one stage of a rewrite and at most once. Running one out
// of order, twice, or in a mode it does not serve is a FailedPrecondition
// error that says which pass comes first; an unknown name is NotFound with
// the closest names. A failed pass leaves the module as it was (passes work
// on the rewrite's copies), though the rewrite itself is then spent.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "plugin/options.h"
#include "plugin/pipeline/rewrite.h"

namespace featx {

struct PassInfo {
  // Stable: hosts name passes in their pipelines.
  std::string name;
  // One line: what it does.
  std::string summary;
  // The stage it runs at, and the stage it leaves the rewrite at.
  Stage runs_at = Stage::kModule;
  Stage leaves_at = Stage::kModule;
  // The only mode it serves (an emitting pass), if any.
  std::optional<Mode> only_mode;
};

struct PassDefinition {
  PassInfo info;
  std::function<absl::Status(Rewrite&)> run;
};

// Adds a pass (a host's own; featx's register with PassRegistration); false,
// and nothing added, if its name is taken.
bool AddPass(PassDefinition pass);

// Every registered pass: featx's own in the order they run
// (FeatxPassOrder, plugin/pipeline/pipeline.h), then the others in the order
// they were added.
std::vector<PassInfo> ListPasses();

// True for the passes FeatxPassOrder lists.
bool IsFeatxPass(absl::string_view name);

// Runs one pass by name on `rewrite`.
[[nodiscard]] absl::Status RunPass(absl::string_view name, Rewrite& rewrite);

// Runs the passes in order; stops at the first error, which names the pass.
[[nodiscard]] absl::Status RunPasses(const std::vector<std::string>& names, Rewrite& rewrite);

// Registers a pass when the library that defines it is loaded: one per pass
// file, at namespace scope,
//   const PassRegistration kRegistration({{"featx.prune", "removes what the outputs do not need",
//                                          Stage::kEmitted, Stage::kEmitted}, PruneStep});
struct PassRegistration {
  explicit PassRegistration(PassDefinition pass);
};

}  // namespace featx
