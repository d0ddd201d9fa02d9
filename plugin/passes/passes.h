// featx's graph passes, one per file in this directory, in the order the
// load-time pipeline runs them (plugin/pipeline.cc; plugin/pass_registry.h
// runs them by name). Each works on a copy of a module's forward graph and
// never touches the module.
//
//   std::shared_ptr<Graph> graph = module.get_method("forward").graph()->copy();
//   InlineNonLeaf(graph, leaves);             // featx.inline_non_leaf
//   FoldModuleAttributes(graph, module);      // featx.fold_module_attributes
//   SpecializeTraining(graph, /*training=*/false);  // featx.specialize_training
//   std::vector<NamedNode> names = NameNodes(graph, {"x"});  // featx.name_nodes
//   InsertTaps(graph, {{names[3].value, names[3].name}});  // featx.insert_taps
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include "plugin/leaf_modules.h"
#include "plugin/passes/call_summaries.h"

namespace featx {

// Inlines calls of non-leaf submodules' methods, and of TorchScript functions
// other than torch.nn.functional and torchvision.ops ones, recursively; calls
// of leaf modules stay single prim::CallMethod nodes. Every inlined node
// records the path of the module whose code it is (plugin/module_path.h).
// `graph` must be a method graph whose first input is the module; it is
// replaced by a new graph (the one given is only read). With
// `root`, the module `graph` is a method of, calls through an interface-typed
// submodule (torch.jit.interface) are resolved to the object `root` holds
// there, as FX traces the object; without it they stay calls. With `root`,
// what FX evaluates in Python is evaluated while copying: plain attributes
// of the modules `root` holds (not `training`, not ones the code writes)
// become constants, scalar ops on constants their results, an `if` on a
// constant its taken branch, and an `if` whose branches give the same
// constants that constant; FoldModuleAttributes is left the reads of
// modules the copy does not follow to their object (an interface-typed
// submodule's own attributes).
// With `mark_calls`, each inlined call of a submodule's method is left
// between two marks, prim::featx_call_begin() before its code and
// prim::featx_call_end[name=<method>](module, arguments..., returned) after
// it, for RestoreCalls; no other pass runs on marked graphs (the names they
// give are the same, saving one fails).
void InlineNonLeaf(std::shared_ptr<torch::jit::Graph>& graph, const LeafModules& leaves,
                   const torch::jit::Module* root = nullptr, bool mark_calls = false);

// The marks InlineNonLeaf(mark_calls) leaves around an inlined call.
extern const c10::Symbol kCallBegin;
extern const c10::Symbol kCallEnd;

// Puts each marked call back as one prim::CallMethod where its code holds
// none of `keep` (nor an if or loop around one) and is still a unit: nothing
// after it uses a value it makes other than what it returns. Calls that
// stay inlined have their inner calls tried; every mark is removed. Returns
// how many calls were put back.
size_t RestoreCalls(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<const torch::jit::Node*>& keep);

// Replaces reads of plain module attributes (bool, int, float, str, None, and
// tuples, lists and optionals of them) with their values in `module`, as FX
// sees them: Python constants at trace time. `training` and attributes the
// graph writes (prim::SetAttr) stay reads. `module` is the graph's owner.
void FoldModuleAttributes(std::shared_ptr<torch::jit::Graph>& graph, const torch::jit::Module& module);

// The graph as it runs with every module's `training` equal to `training`:
// reads of the attribute become constants, then constant propagation folds
// the branches that depend on them and removes dead code. Leaf modules'
// own code is not inlined, so their internal branches are left alone, as FX
// leaves them.
void SpecializeTraining(std::shared_ptr<torch::jit::Graph>& graph, bool training);

// True when something in the graph uses a module's `training` (what SpecializeTraining
// replaces); false means both modes give the same graph.
bool ReadsTraining(const std::shared_ptr<torch::jit::Graph>& graph);

// A node name and the node it names.
struct NamedNode {
  std::string name;
  // The named node, or nullptr for a graph input.
  torch::jit::Node* node = nullptr;
  // The value the name stands for: the node's single output, the input, or
  // for an unpack (FX's getitem) its element. nullptr when the node has
  // several outputs.
  torch::jit::Value* value = nullptr;
};

// torchvision's NodePathTracer names for an inlined, specialized graph, in
// execution order (nodes inside prim::If / prim::Loop blocks in place,
// then-branch first): the forward arguments, leaf module calls by module
// path, ops as `<module path>.<op>`, parameter reads as FX's get_attr
// nodes, with torchvision's local `_1`, `_2` suffixes. Structural nodes
// (constants, module attribute reads, list and tuple packing, control flow
// nodes themselves, exceptions, casts) get no name.
// `input_names` are forward's argument names after `self` (its schema's:
// inlining may rename the graph's values).
std::vector<NamedNode> NameNodes(const std::shared_ptr<torch::jit::Graph>& graph,
                                 const std::vector<std::string>& input_names);

// A node of a graph that TorchScript's graph executor inlined completely
// (what its custom passes see): a leaf module call, named by its module path
// with torchvision's `_1`, `_2` for repeated calls, or an aten op outside
// leaf calls, named `<module path>.<op>` without suffix.
struct InlinedCall {
  // For a call: its last node, and that node's tensor (what the call
  // returned), if it makes one.
  NamedNode named;
  bool leaf_call = false;
};

// The leaf calls and ops of `graph` in execution order, read from the
// inlined call stacks TorchScript keeps on each node. The branches of a
// prim::If are read as FX would see either one (a call in both branches
// gets one name, twice); calls inside prim::Loop, and a leaf call that
// leaves no node (Identity), are not seen.
std::vector<InlinedCall> NameInlinedCalls(const std::shared_ptr<torch::jit::Graph>& graph, const LeafModules& leaves);

// For each value, whether alias analysis finds a write to it, or to anything
// aliasing it, after its node: an in-place op, or an in-place module such as
// ReLU(inplace=True) (module calls are analysed inlined, on a copy).
// `summaries`, when given, is reused (and filled) across passes. A fresh
// value (an op's or module's new tensor) is decided from its uses and the
// schemas' alias annotations; any other by OverwrittenLaterByAliasDb.
std::vector<bool> OverwrittenLater(const std::shared_ptr<torch::jit::Graph>& graph,
                                   const std::vector<torch::jit::Value*>& values, CallSummaries* summaries = nullptr);

// The same question answered by torch's AliasDb on an analysis copy of the
// graph (call_summaries.h): slower, and the reference the fast path is
// tested against.
std::vector<bool> OverwrittenLaterByAliasDb(const std::shared_ptr<torch::jit::Graph>& graph,
                                            const std::vector<torch::jit::Value*>& values,
                                            CallSummaries* summaries = nullptr);

// For each value, the value that holds it as it was at its node: the value
// itself, or, where OverwrittenLater, a clone inserted right after it (one
// per value).
std::vector<torch::jit::Value*> ProtectAliases(std::shared_ptr<torch::jit::Graph>& graph,
                                               const std::vector<torch::jit::Value*>& values,
                                               CallSummaries* summaries = nullptr);

// A value to observe and the tag it is recorded under.
struct TapPoint {
  torch::jit::Value* value;
  std::string tag;
  // Record a copy (featx::tap.copy): the value is overwritten later.
  bool copy = false;
};

// Routes each value through `featx::tap(value, tag)`, inserted right after
// the value is made; every later use reads the tap's output (for the output
// of an in-place op that nothing reads, the uses of the tensor it wrote).
// Values must be Tensors. Returns each tap's output; one with no uses is dead
// code and would be removed, so callers check.
std::vector<torch::jit::Value*> InsertTaps(std::shared_ptr<torch::jit::Graph>& graph,
                                           const std::vector<TapPoint>& taps);

// Removes what the graph's outputs do not need, unused module calls included
// (torch's dead-code elimination keeps every call; FX does not).
void Prune(std::shared_ptr<torch::jit::Graph>& graph, CallSummaries* summaries = nullptr);

// Calls featx::request_begin first and featx::request_end last (both have
// side effects, so no pass removes them), naming `sink`, the key of the
// request sink this model reports to (ops/capture.h); "" calls the plain
// overloads, which report to the process's default sink.
void BracketRequest(std::shared_ptr<torch::jit::Graph>& graph, const std::string& sink = "");

// A chosen activation and the name it is emitted under.
struct EmittedOutput {
  std::string name;
  torch::jit::Value* value;
};

// Makes the graph return a Dict[str, Tensor] of `outputs`, in place of its
// own outputs. Each value is stored right after it is made, so values inside
// prim::If / prim::Loop blocks are allowed (present when their block ran,
// the last iteration's in a loop). `outputs` must be in graph order; the
// dict keeps that order.
void ReturnDict(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<EmittedOutput>& outputs);

// Makes the graph return one flat tuple: its own outputs (nested tuples
// unpacked into their tensors), then `outputs`, which must be Tensors
// visible at the graph's end.
void ReturnTuple(std::shared_ptr<torch::jit::Graph>& graph, const std::vector<EmittedOutput>& outputs);

// One graph that runs `train` when the module's `training` is true and `eval`
// otherwise. Both take the same inputs (the module first) and return one
// value.
std::shared_ptr<torch::jit::Graph> MergeTrainEval(const std::shared_ptr<torch::jit::Graph>& train,
                                                  const std::shared_ptr<torch::jit::Graph>& eval);

}  // namespace featx
