// What leaf calls do to their arguments, for alias analysis.
//
// torch's AliasDb assumes the worst of a prim::CallMethod or prim::CallFunction:
// it writes every input and returns something that may alias anything. featx
// keeps leaf module calls whole, and torch.nn.functional calls (F.relu,
// F.avg_pool2d) as FX does, so it needs better: each method or function is
// analysed once, from its own code, into a summary, and an analysis copy of a
// graph gets stand-ins for its calls that AliasDb understands exactly:
//
//   conv(x)                    -> aten::clone(x)    reads x, fresh output
//   ReLU(inplace=True)(x)      -> aten::relu_(x)    writes x, returns it
//   Identity()(x), Flatten(x)  -> aten::alias(x)    returns a view of x
// and calls that fit none of these are inlined.
//
//   CallSummaries summaries;
//   AnalysisCopy copy = summaries.MakeAnalysisCopy(*graph, {value});
//   torch::jit::AliasDb alias_db(copy.graph);   // copy.values[0] is `value`
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>

#include "absl/container/flat_hash_map.h"

namespace featx {

struct CallSummary {
  // The method writes (in place) some argument other than the module, or
  // something aliasing one.
  bool writes_arguments = true;
  // Its output may alias an argument, the module's state, or anything.
  bool output_may_alias = true;
  // ...and when it may, the arguments are all it may alias (ReLU(inplace=True),
  // Identity), never the module's own state or unknown memory.
  bool output_aliases_only_arguments = false;
};

// A graph copy fit for torch::jit::AliasDb, and where the values asked for
// are in it.
struct AnalysisCopy {
  std::shared_ptr<torch::jit::Graph> graph;
  std::vector<torch::jit::Value*> values;
};

// The only tensor argument of a call (after the module or function called),
// or nullptr: what a call whose output aliases only its arguments returns.
torch::jit::Value* SoleTensorArgument(const torch::jit::Node* call);

// prim::CallMethod or prim::CallFunction: what CallSummaries::Of summarizes.
bool IsCall(const torch::jit::Node* n);

class CallSummaries {
 public:
  // How a method's or function's code is summarized: from its ops' alias
  // annotations where they tell the whole story, with AliasDb for the rest
  // (kFromSchemas), or always with AliasDb (the reference, for tests).
  enum class Method { kFromSchemas, kAliasDbOnly };
  explicit CallSummaries(Method method = Method::kFromSchemas) : method_(method) {}

  // The summary of the method or function a call node calls (IsCall).
  const CallSummary& Of(const torch::jit::Node* call);

  // A copy of `graph` with each call replaced by its stand-in, or inlined.
  // `values` (of `graph`) are mapped to the copy; each stays used there, so
  // it survives inlining.
  AnalysisCopy MakeAnalysisCopy(torch::jit::Graph& graph, const std::vector<torch::jit::Value*>& values);

 private:
  void ReplaceCalls(torch::jit::Block* block);
  // `first_argument`: 1 for a method (its first input is the module), 0 for
  // a function.
  CallSummary Summarize(torch::jit::GraphFunction& callee, size_t first_argument);
  std::optional<CallSummary> SummarizeFromSchemas(torch::jit::Graph& graph, size_t first_argument);
  CallSummary SummarizeWithAliasDb(torch::jit::GraphFunction& callee, size_t first_argument);

  Method method_;
  absl::flat_hash_map<const torch::jit::Function*, CallSummary> known_;
};

}  // namespace featx
