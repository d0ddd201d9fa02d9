#include "plugin/naming/leaf_functions.h"

#include <torch/csrc/jit/api/function_impl.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "plugin/did_you_mean.h"
#include "plugin/naming/leaf_modules.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// The functions torchvision's models torch.fx.wrap (torchvision 0.14-0.29).
const absl::flat_hash_set<std::string>& TorchvisionWrapped() {
  static const absl::flat_hash_set<std::string> kWrapped = {
      "torchvision.models.swin_transformer._patch_merging_pad",
      "torchvision.models.swin_transformer._get_relative_position_bias",
      "torchvision.models.swin_transformer.shifted_window_attention",
      "torchvision.models.video.mvit._unsqueeze",
      "torchvision.models.video.mvit._squeeze",
      "torchvision.models.video.mvit._add_rel_pos",
      "torchvision.models.video.mvit._add_shortcut",
  };
  return kWrapped;
}

void CollectCalls(const jit::Block* block, absl::flat_hash_set<const jit::Function*>& seen,
                  std::vector<std::string>& called);

void CollectCalls(const jit::Function* function, absl::flat_hash_set<const jit::Function*>& seen,
                  std::vector<std::string>& called) {
  if (!seen.insert(function).second) return;
  if (jit::GraphFunction* graph_function = jit::tryToGraphFunction(const_cast<jit::Function&>(*function))) {
    CollectCalls(graph_function->graph()->block(), seen, called);
  }
}

void CollectCalls(const jit::Block* block, absl::flat_hash_set<const jit::Function*>& seen,
                  std::vector<std::string>& called) {
  for (const jit::Node* n : block->nodes()) {
    for (const jit::Block* inner : n->blocks()) CollectCalls(inner, seen, called);
    if (n->kind() != c10::prim::CallFunction) continue;
    auto fn_type = n->input(0)->type()->cast<c10::FunctionType>();
    if (!fn_type) continue;
    const jit::Function* function = fn_type->function();
    if (seen.contains(function)) continue;
    called.push_back(UnmangledPythonName(function->qualname().qualifiedName()));
    CollectCalls(function, seen, called);
  }
}

}  // namespace

absl::StatusOr<LeafFunctions> LeafFunctions::Create(const torch::jit::Module& module,
                                                    const std::vector<std::string>& user_functions) {
  LeafFunctions leaves;
  std::vector<std::string> called;  // made on first need
  for (const std::string& raw : user_functions) {
    const std::string name = UnmangledPythonName(raw);
    if (name.empty()) continue;
    if (called.empty()) called = CalledBy(module);
    std::vector<std::string> matches;
    for (const std::string& function : called) {
      if (function == name || BareName(function) == name) matches.push_back(function);
    }
    if (matches.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat("leaf function '", raw, "' names ", matches.size(),
                                                     " functions of this model: '", absl::StrJoin(matches, "', '"),
                                                     "'; give the qualified name"));
    }
    if (matches.empty()) {
      std::vector<std::string> candidates;
      for (const std::string& function : called) {
        candidates.push_back(name.find('.') == std::string::npos ? BareName(function) : function);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("leaf function '", raw, "' is not a function this model calls", DidYouMean(name, candidates)));
    }
    leaves.user_functions_.insert(matches.front());
  }
  return leaves;
}

bool LeafFunctions::IsLeaf(absl::string_view qualified) const {
  const absl::string_view python = absl::StripPrefix(qualified, "__torch__.");
  if (absl::StartsWith(python, "torch.nn.functional.") || absl::StartsWith(python, "torchvision.ops.")) return true;
  if (absl::StrContains(python, "___torch_mangle_")) return IsLeaf(UnmangledPythonName(python));
  const std::string name(python);
  return TorchvisionWrapped().contains(name) || user_functions_.contains(name);
}

std::vector<std::string> LeafFunctions::CalledBy(const torch::jit::Module& module) {
  absl::flat_hash_set<const jit::Function*> seen;
  std::vector<std::string> called;
  for (const jit::Module& m : module.modules()) {
    for (const jit::Function* method : m.type()->methods()) CollectCalls(method, seen, called);
  }
  return called;
}

}  // namespace featx
