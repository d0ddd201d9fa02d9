#include "plugin/pipeline/pass_registry.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "plugin/did_you_mean.h"
#include "plugin/pipeline/pipeline.h"
#include "plugin/status.h"

namespace featx {
namespace {

// A featx pass's place in FeatxPassOrder; past the end for others.
size_t RunOrder(absl::string_view name) {
  const std::vector<std::string>& order = FeatxPassOrder();
  return static_cast<size_t>(std::find(order.begin(), order.end(), name) - order.begin());
}

class Registry {
 public:
  static Registry& Get() {
    // Never destroyed: a host may run passes from threads that outlive
    // static destruction.
    static Registry* registry = new Registry;
    return *registry;
  }

  bool Add(PassDefinition pass) {
    absl::MutexLock lock(&mu_);
    for (const PassDefinition& p : *passes_) {
      if (p.info.name == pass.info.name) return false;
    }
    auto next = std::make_shared<std::vector<PassDefinition>>(*passes_);
    next->push_back(std::move(pass));
    // Static initializers register featx's passes in link order; the list
    // keeps them in the order they run, then the others as added.
    std::stable_sort(next->begin(), next->end(), [](const PassDefinition& a, const PassDefinition& b) {
      return RunOrder(a.info.name) < RunOrder(b.info.name);
    });
    passes_ = std::move(next);
    return true;
  }

  // A snapshot: registering a pass makes a new list (rare: at load time), so
  // running one does not copy every pass's definition (it did, 13 times a
  // rewrite: 6% of naming resnet50).
  std::shared_ptr<const std::vector<PassDefinition>> All() const {
    absl::MutexLock lock(&mu_);
    return passes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<PassDefinition>> passes_ = std::make_shared<std::vector<PassDefinition>>();
};

std::vector<std::string> Names(const std::vector<PassDefinition>& passes) {
  std::vector<std::string> names;
  for (const PassDefinition& p : passes) names.push_back(p.info.name);
  return names;
}

absl::Status UnknownPass(absl::string_view name, const std::vector<std::string>& known) {
  return absl::NotFoundError(absl::StrCat("no featx pass named '", name, "'", DidYouMean(name, known),
                                          "; registered passes: ", absl::StrJoin(known, ", ")));
}

// The passes that leave a rewrite at `stage`: what to run before a pass
// that runs there.
std::string PassesReaching(Stage stage, const std::vector<PassDefinition>& passes) {
  std::vector<std::string> names;
  for (const PassDefinition& p : passes) {
    if (p.info.leaves_at == stage && p.info.runs_at != stage) names.push_back(p.info.name);
  }
  return names.empty() ? "Rewrite::Start" : absl::StrJoin(names, " or ");
}

absl::Status CheckCanRun(const PassInfo& pass, const Rewrite& rewrite, const std::vector<PassDefinition>& passes) {
  if (std::find(rewrite.passes_run.begin(), rewrite.passes_run.end(), pass.name) != rewrite.passes_run.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(pass.name, " already ran on this rewrite; each pass runs at most once"));
  }
  if (pass.only_mode.has_value() && *pass.only_mode != rewrite.options.mode) {
    std::vector<std::string> emitters;
    for (const PassDefinition& p : passes) {
      if (p.info.only_mode == rewrite.options.mode && p.info.runs_at == pass.runs_at) emitters.push_back(p.info.name);
    }
    return absl::FailedPreconditionError(
        absl::StrCat(pass.name, " serves ", ModeName(*pass.only_mode), " mode, but this rewrite is in ",
                     ModeName(rewrite.options.mode), " mode",
                     emitters.empty() ? "" : absl::StrCat("; run ", absl::StrJoin(emitters, " or "), " instead")));
  }
  if (rewrite.stage != pass.runs_at) {
    std::string fix = rewrite.stage < pass.runs_at
                          ? absl::StrCat("run ", PassesReaching(pass.runs_at, passes), " first")
                          : "it must run earlier in the pipeline";
    return absl::FailedPreconditionError(absl::StrCat(
        pass.name, " runs on ", StageDescription(pass.runs_at), ", but this rewrite holds ",
        StageDescription(rewrite.stage),
        rewrite.passes_run.empty() ? "" : absl::StrCat(" (after ", rewrite.passes_run.back(), ")"), "; ", fix));
  }
  return absl::OkStatus();
}

}  // namespace

bool AddPass(PassDefinition pass) { return Registry::Get().Add(std::move(pass)); }

PassRegistration::PassRegistration(PassDefinition pass) { AddPass(std::move(pass)); }

bool IsFeatxPass(absl::string_view name) { return RunOrder(name) < FeatxPassOrder().size(); }

std::vector<PassInfo> ListPasses() {
  std::vector<PassInfo> infos;
  for (const PassDefinition& p : *Registry::Get().All()) infos.push_back(p.info);
  return infos;
}

absl::Status RunPass(absl::string_view name, Rewrite& rewrite) {
  const std::shared_ptr<const std::vector<PassDefinition>> all = Registry::Get().All();
  const std::vector<PassDefinition>& passes = *all;
  auto it = std::find_if(passes.begin(), passes.end(), [&](const PassDefinition& p) { return p.info.name == name; });
  if (it == passes.end()) return UnknownPass(name, Names(passes));
  if (absl::Status status = CheckCanRun(it->info, rewrite, passes); !status.ok()) return status;
  // A pass that throws (a host's pass, or a host's warning handler called
  // from one) is a failed pass, not an exception through featx's API; the
  // model is untouched, the rewrite spent.
  absl::Status status = TorchCall([&] { return it->run(rewrite); }, absl::StatusCode::kInternal);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kInternal) return status;
    return absl::InternalError(absl::StrCat(name, " failed: ", status.message()));
  }
  rewrite.passes_run.push_back(it->info.name);
  rewrite.stage = it->info.leaves_at;
  return absl::OkStatus();
}

absl::Status RunPasses(const std::vector<std::string>& names, Rewrite& rewrite) {
  // Every name first: a typo at the end of a pipeline fails before any work.
  const std::vector<std::string> known = Names(*Registry::Get().All());
  for (const std::string& name : names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) return UnknownPass(name, known);
  }
  if (names.empty()) return absl::InvalidArgumentError("no passes to run");
  rewrite.passes_planned = names;
  for (const std::string& name : names) {
    if (absl::Status status = RunPass(name, rewrite); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace featx
