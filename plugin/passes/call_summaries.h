// What leaf calls do to their arguments, for alias analysis.
//
// torch's AliasDb assumes the worst of a prim::CallMethod: it writes every
// input and returns something that may alias anything. featx keeps leaf
// module calls whole, so it needs better: each (module class, method) is
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

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

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

// The only tensor argument of a module call (after the module itself), or
// nullptr: what a call whose output aliases only its arguments returns.
torch::jit::Value* SoleTensorArgument(const torch::jit::Node* call);

class CallSummaries {
 public:
  // The summary of a prim::CallMethod node's method.
  const CallSummary& Of(const torch::jit::Node* call);

  // A copy of `graph` with each call replaced by its stand-in, or inlined.
  // `values` (of `graph`) are mapped to the copy; each stays used there, so
  // it survives inlining.
  AnalysisCopy MakeAnalysisCopy(torch::jit::Graph& graph, const std::vector<torch::jit::Value*>& values);

 private:
  void ReplaceCalls(torch::jit::Block* block);
  CallSummary Summarize(const c10::ClassType& type, const std::string& method);

  std::map<std::pair<const c10::ClassType*, std::string>, CallSummary> known_;
};

}  // namespace featx
