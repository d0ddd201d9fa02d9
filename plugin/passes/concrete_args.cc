#include "plugin/passes/concrete_args.h"

#include <string>

#include <torch/csrc/jit/jit_log.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {

namespace jit = ::torch::jit;

void FixConcreteArgs(std::shared_ptr<jit::Graph>& graph, const std::vector<ConcreteArgument>& fixed) {
  jit::Node* first = graph->block()->nodes().front();
  for (const ConcreteArgument& argument : fixed) {
    jit::Value* input = graph->inputs()[argument.index + 1];
    jit::WithInsertPoint guard(first);
    jit::Value* value = graph->insertConstant(argument.value);
    // The uses forward had: the check below is the only one left reading
    // what the caller passed.
    input->replaceAllUsesWith(value);
    jit::Value* same = argument.value.isNone() ? graph->insert(c10::aten::__is__, {input, value})
                                               : graph->insert(c10::aten::eq, {input, value});
    jit::Node* check = graph->insertNode(graph->create(c10::prim::If, {same}, 0));
    check->addBlock();
    jit::Block* raise = check->addBlock();
    jit::WithInsertPoint in_raise(raise);
    jit::Value* message = graph->insertConstant(absl::StrCat("AssertionError: ", SpecializedMessage(argument)));
    graph->insertNode(graph->create(c10::prim::RaiseException, {message, graph->insertConstant(c10::IValue())}, 0));
  }
  GRAPH_DUMP("After featx FixConcreteArgs: ", graph);
}

namespace {

absl::Status FixConcreteArgsStep(Rewrite& rewrite) {
  return TorchCall([&] { FixConcreteArgs(rewrite.inlined, rewrite.concrete_args); });
}

const PassRegistration kRegistration({{"featx.concrete_args",
                                       "fixes the forward arguments concrete_args names to their values, as FX does",
                                       Stage::kInlined, Stage::kInlined},
                                      FixConcreteArgsStep});

}  // namespace

}  // namespace featx
