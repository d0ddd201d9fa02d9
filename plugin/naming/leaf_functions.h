// Which function calls featx keeps as single nodes, as FX's tracer does for
// the functions it wraps (torch.fx.wrap, a tracer's autowrap_functions),
// decided here from the qualified names TorchScript gives the Python
// functions a model calls.
//
// Default leaf functions: those of torch.nn.functional (single nodes through
// __torch_function__), of torchvision.ops (an autowrapped module of
// torchvision's tracer), and the functions torchvision's models torch.fx.wrap
// (kTorchvisionWrapped below). Users add functions by name: a library's own
// wrapped functions, e.g. timm's register_notrace_function registry.
//
//   FEATX_ASSIGN_OR_RETURN(LeafFunctions leaves,
//                          LeafFunctions::Create(module, {"timm.models.swin_transformer.window_reverse"}));
//   leaves.IsLeaf("timm.models.swin_transformer.window_reverse");  // true
#pragma once

#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace featx {

class LeafFunctions {
 public:
  // `user_functions` are Python function names, qualified
  // (`timm.models.swin_transformer.window_reverse`, with or without
  // `__torch__.`) or bare (`window_reverse`). Each must name a function
  // `module`'s code calls, and a bare name exactly one: otherwise an
  // InvalidArgument error lists the closest functions.
  static absl::StatusOr<LeafFunctions> Create(const torch::jit::Module& module,
                                              const std::vector<std::string>& user_functions);

  // The defaults only.
  LeafFunctions() = default;

  // `qualified`: a TorchScript function's qualified name
  // (`__torch__.timm.models.swin_transformer.window_reverse`).
  bool IsLeaf(absl::string_view qualified) const;

  // The Python functions `module`'s code calls, from any of its modules'
  // methods or from another function, qualified without `__torch__.` and
  // TorchScript's mangling, each once, in the order first met.
  static std::vector<std::string> CalledBy(const torch::jit::Module& module);

 private:
  absl::flat_hash_set<std::string> user_functions_;  // qualified, without `__torch__.`
};

}  // namespace featx
