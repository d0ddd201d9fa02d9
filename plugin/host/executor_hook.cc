#include "plugin/host/executor_hook.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/passes/pass_manager.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "plugin/analysis/name_inlined_calls.h"
#include "plugin/analysis/overwritten_later.h"
#include "plugin/log.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/naming/named_graph.h"
#include "plugin/naming/return_nodes.h"
#include "plugin/passes/bracket_request.h"
#include "plugin/passes/insert_taps.h"
#include "plugin/status.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

const c10::Symbol kTap = c10::Symbol::fromQualString("featx::tap");
const c10::Symbol kRequestBegin = c10::Symbol::fromQualString("featx::request_begin");

bool AlreadyTapped(const jit::Graph& graph) {
  for (const jit::Node* n : graph.nodes()) {
    if (n->kind() == kTap || n->kind() == kRequestBegin) return true;
  }
  return false;
}

std::string ModelName(const jit::Graph& graph) {
  const auto type = graph.inputs().empty() ? nullptr : graph.inputs()[0]->type()->cast<c10::ClassType>();
  return type == nullptr ? "a function" : PythonClassName(*type) + ".forward";
}

struct Hook {
  absl::Mutex mu;
  std::optional<jit::GraphPassNameType> id ABSL_GUARDED_BY(mu);
};

Hook& TheHook() {
  static Hook* hook = new Hook;
  return *hook;
}

// The specs the hook taps, if it can serve `options`.
absl::StatusOr<std::vector<ReturnNode>> WantedNodes(const ExtractorOptions& options) {
  if (options.mode != Mode::kTap) {
    return absl::InvalidArgumentError(absl::StrCat("the executor hook only taps (mode tap), not mode ",
                                                   ModeName(options.mode),
                                                   "; rewrite the model at load time for dict or tuple outputs"));
  }
  if (!options.train_return_nodes.empty() || !options.eval_return_nodes.empty()) {
    return absl::InvalidArgumentError(
        "the executor hook takes return_nodes only: the graph executor's graph serves both training modes");
  }
  return ParseReturnNodes(options.return_nodes);
}

}  // namespace

absl::Status TapExecutorGraph(std::shared_ptr<jit::Graph>& graph, const ExtractorOptions& options) {
  FEATX_ASSIGN_OR_RETURN(std::vector<ReturnNode> wanted, WantedNodes(options));
  if (graph->inputs().empty() || !graph->inputs()[0]->type()->cast<c10::ClassType>() || AlreadyTapped(*graph)) {
    return absl::OkStatus();
  }
  // Everything is decided before the graph is touched.
  return TorchCall([&]() -> absl::Status {
    const std::vector<InlinedCall> calls = NameInlinedCalls(graph, LeafModules::FromClassNames(options.leaf_modules));
    std::vector<NamedNode> named;
    std::vector<std::string> leaf_names;
    for (const InlinedCall& c : calls) {
      named.push_back(c.named);
      if (c.leaf_call) leaf_names.push_back(c.named.name);
    }
    absl::StatusOr<std::vector<ChosenNode>> chosen = ResolveReturnNodes(wanted, named, "executor");
    if (!chosen.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          chosen.status().message(), "; the executor hook sees these leaf calls: ", absl::StrJoin(leaf_names, ", ")));
    }
    std::vector<TapPoint> taps;
    for (const ChosenNode& c : *chosen) {
      const size_t i = static_cast<size_t>(c.node - named.data());
      if (!calls[i].leaf_call) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", c.output_name, "' resolves to an op (", c.node->node->kind().toQualString(), " in ", c.node->name,
            "), but the executor hook taps leaf module calls only; name one of: ", absl::StrJoin(leaf_names, ", "),
            " (or rewrite the model at load time)"));
      }
      // The same call in both branches of an if: tap each; one runs.
      for (const InlinedCall& same : calls) {
        if (!same.leaf_call || same.named.name != c.node->name) continue;
        if (same.named.value == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              "leaf call '", c.node->name, "' does not end in one tensor; the executor hook cannot tap it"));
        }
        taps.push_back({same.named.value, c.output_name});
      }
    }
    std::vector<jit::Value*> values;
    for (const TapPoint& tap : taps) values.push_back(tap.value);
    const std::vector<bool> copies = OverwrittenLaterByAliasDb(graph, values);
    for (size_t i = 0; i < taps.size(); ++i) taps[i].copy = copies[i];
    InsertTaps(graph, taps);
    BracketRequest(graph);
    return absl::OkStatus();
  });
}

absl::Status EnableExecutorHook(const ExtractorOptions& options) {
  FEATX_RETURN_IF_ERROR(WantedNodes(options).status());
  DisableExecutorHook();
  Hook& hook = TheHook();
  absl::MutexLock lock(&hook.mu);
  hook.id = jit::registerPrePass([options](std::shared_ptr<jit::Graph>& graph) {
    // Inside the host's forward call: nothing may throw from here.
    absl::Status status = TorchCall([&] { return TapExecutorGraph(graph, options); });
    if (!status.ok()) {
      (void)TorchCall([&] {
        Log(absl::StrCat("featx executor hook: ", ModelName(*graph), " left unchanged: ", status.message()));
      });
    }
  });
  return absl::OkStatus();
}

void DisableExecutorHook() {
  Hook& hook = TheHook();
  absl::MutexLock lock(&hook.mu);
  if (hook.id.has_value()) jit::clearPrePass(*hook.id);
  hook.id.reset();
}

}  // namespace featx
