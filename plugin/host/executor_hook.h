// The opt-in executor hook: for hosts that cannot call featx at all, not even
// to rewrite a model offline. It registers a custom pass with TorchScript
// (torch::jit::registerPrePass, the hook behind torch::jit::RegisterPass)
// that taps leaf module calls in the graphs the graph executor optimizes.
//
//   export FEATX_FLAGS="--featx_executor_hook --featx_return_nodes=layer1,fc:logits --featx_spool_dir=/tmp/a"
//   LD_PRELOAD=libfeatx.so python3 serve.py   # torch.jit.load, then model(x) under torch.no_grad()
//
// When it fires -- not at load. TorchScript runs custom passes only while the
// graph executor of a method builds its optimized plan:
//  - profiling executor (the default): on the second call of forward (the
//    first call runs the profiling graph). Requests served before that carry
//    no taps; every later one does, whatever its input shape (measured:
//    1x3x64x64, then 2x3x96x96).
//  - legacy executor (torch._C._jit_set_profiling_executor(False)): on the
//    first call for each new input signature.
//  - only when no gradient is needed (torch.no_grad(), torch.inference_mode(),
//    torch::NoGradGuard, or no input or parameter requires grad): a graph
//    that needs autograd goes through differentiable subgraphs and the pass
//    does not see it.
//  - never when optimization is off (torch.jit.optimized_execution(False),
//    torch::jit::setGraphExecutorOptimize(false)).
//  - in every graph executor of the process (each model's forward, and any
//    scripted function), which is why a graph whose specs do not all resolve
//    is left unchanged with one warning.
//
// What it sees: the graph with every call inlined and not specialized for
// training. So it taps leaf module calls only (`layer1.0.conv1`, `fc`,
// `layer1.1.relu_1`, or a prefix whose last node is a leaf call: `layer1` in
// resnet), named from the inlined call stacks with torchvision's names; a
// spec that resolves to an op, a leaf call inside control flow, or a leaf
// that leaves no node is refused with a warning naming the leaf calls. The
// load-time rewrite (featx_instrument, featx rewrite) has none of these
// limits and is the path to prefer.
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

#include "absl/status/status.h"
#include "plugin/options.h"

namespace featx {

// Registers the hook (replacing one registered before) for options.return_nodes
// and options.leaf_modules. Call it before requests are served (featx does
// at load): TorchScript's list of custom passes has no lock. InvalidArgument for options it cannot serve: no
// return_nodes, per-mode lists, or a mode other than tap.
[[nodiscard]] absl::Status EnableExecutorHook(const ExtractorOptions& options);

// Unregisters it; graphs already optimized keep their taps.
void DisableExecutorHook();

// The pass itself: taps the chosen leaf calls of an executor graph and
// brackets it with featx::request_begin/end. On any error the graph is
// unchanged. A graph that already has taps, or that is not a module's
// method, is left alone (OK).
[[nodiscard]] absl::Status TapExecutorGraph(std::shared_ptr<torch::jit::Graph>& graph, const ExtractorOptions& options);

}  // namespace featx
