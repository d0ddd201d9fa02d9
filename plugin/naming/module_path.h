// Which module a node of an inlined forward graph belongs to.
//
// InlineNonLeaf copies each non-leaf module's code into the caller's graph;
// the nodes it brings keep the path of the module they came from
// ("layer1.0"; "" for the root), which is what torchvision's NodePathTracer
// calls the current module qualname. The path is kept in the node's Scope, so
// it survives graph copies.
//
//   SetModulePath(node, "layer1.0");
//   ModulePath(node);                      // "layer1.0"
//   ModuleValuePath(call->input(0));       // "layer1.0.conv1" for self.layer1[0].conv1
#pragma once

#include <optional>
#include <string>
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

#include <torch/csrc/jit/ir/ir.h>

namespace featx {

void SetModulePath(torch::jit::Node* node, absl::string_view path);

// The scope SetModulePath gives a node; one can be shared by many nodes.
// Scopes made for one graph can share a `root` (one allocation fewer each).
torch::jit::ScopePtr ModulePathScope(absl::string_view path, torch::jit::ScopePtr root = {});

// "" for nodes of the root module's own code.
std::string ModulePath(const torch::jit::Node* node);

// The attribute path of a module value from the graph's `self` input, by its
// chain of prim::GetAttr nodes: `self.layer1.0` -> "layer1.0", `self` -> "".
// nullopt when the value is not such a chain (a module chosen at run time).
std::optional<std::string> ModuleValuePath(const torch::jit::Value* module_value);

// ModuleValuePath for many values of one graph: each GetAttr's path is built
// once from its owner's, instead of walking the chain back to `self` for
// every call and parameter read. Values must outlive it.
class ModuleValuePaths {
 public:
  const std::optional<std::string>& Of(const torch::jit::Value* module_value);

  // Of for a value read once (a leaf module's, by its call): built from its
  // owner's remembered path, itself not remembered.
  std::optional<std::string> OfUsedOnce(const torch::jit::Value* module_value);

 private:
  absl::flat_hash_map<const torch::jit::Value*, std::optional<std::string>> paths_;
};

}  // namespace featx
