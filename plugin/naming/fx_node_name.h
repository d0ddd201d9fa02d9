// The names torch.fx gives the nodes it records, for the TorchScript nodes
// that hold the same computation. torchvision's node names are built from
// them (plugin/passes/name_nodes.cc).
//
// Ops: found from the Python source that produced them.
// TorchScript spells `out += identity` and `out.add_(identity)` the same way
// (aten::add_), but FX names the first "add" (operator.add) and the second
// "add_" (the method). Models saved by torch.jit.save keep their original
// source by default, and each node's source range points into it, so featx
// reads the spelling the model's author wrote:
//   out += identity      -> "add"       out.add_(identity) -> "add_"
//   x / 2                -> "truediv"   torch.div(x, 2)    -> "div"
//   x.shape              -> "getattr"   x.size(0)          -> "size"
// Without the original source (a model saved without debug information),
// the op's name without namespace and leading or trailing underscores:
// aten::add_ -> "add", aten::__getitem__ -> "getitem".
//
//   FxOpName(node);                        // "add" for `out += identity`
//   FxFunctionName(call);                  // "relu" for a call of F.relu
//   FxGetAttrName("features.1.0.layer_scale");  // "features_1_0_layer_scale"
#pragma once

#include <string>

#include <torch/csrc/jit/ir/ir.h>

#include "absl/strings/string_view.h"

namespace featx {

std::string FxOpName(const torch::jit::Node* node);

// A prim::CallFunction: the function's Python name, as FX names a
// call_function node after __name__ (torch.nn.functional's boolean
// dispatchers, compiled as `_max_pool2d`, keep their public name).
std::string FxFunctionName(const torch::jit::Node* call);

// A get_attr node reading `target` ("features.1.0.layer_scale"): snake-cased,
// with characters not allowed in a Python identifier replaced by '_'.
std::string FxGetAttrName(const std::string& target);

// torch.fx.graph._snake_case: "pascalCase" -> "pascal_case".
std::string SnakeCase(absl::string_view s);

// The fallback rule alone: "aten::add_" -> "add".
std::string OpNameWithoutUnderscores(const torch::jit::Node* node);

}  // namespace featx
