// Names for the executor hook (plugin/host/executor_hook.h): TorchScript's graph
// executor inlines every call before its custom passes run, so the module
// calls featx names are gone; what is left of each is a run of nodes whose
// inlined call stacks pass through the module:
//
//   %w : Tensor = prim::GetAttr[name="weight"](%conv1)  # SELF(ResNet)/layer1/0/conv1(Conv2d)/SELF
//   %y : Tensor = aten::conv2d(%x, %w, ...)             # SELF(ResNet)/layer1/0/conv1(Conv2d)/SELF
//
// That run is the call of leaf `layer1.0.conv1`, and its last node makes the
// value the call returned.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/scope.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/analysis/jit_values.h"
#include "plugin/analysis/name_inlined_calls.h"
#include "plugin/naming/fx_node_name.h"
#include "plugin/naming/local_suffixes.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

// Where a node's code comes from: the module path of the innermost leaf
// module on its call stack, or of the innermost module if none is a leaf.
struct Origin {
  std::string path;
  bool in_leaf = false;
  // Which call of the leaf: the call sites that lead to it (a module called
  // twice in a row is two calls; one call site reached from both branches
  // of an `if` is two calls).
  std::string call_site;
  // Whether the node has a call stack at all (nodes featx or the executor
  // made, such as prim::profile, have none).
  bool known = false;
};

Origin OriginOf(const jit::Node* node, const LeafModules& leaves) {
  Origin origin;
  const auto callstack = node->callstack();
  if (!callstack.has_value()) return origin;
  origin.known = true;
  std::vector<std::string> parts;
  for (const jit::InlinedCallStackEntry& entry : (*callstack)->vec()) {
    const jit::SourceRange& site = std::get<1>(entry);
    absl::StrAppend(&origin.call_site, reinterpret_cast<uintptr_t>(site.source().get()), ":", site.start(), "/");
    const auto& info = std::get<2>(entry);
    if (!info.has_value()) continue;  // a function call, not a module's
    // "SELF" is the model itself, or a module calling its own methods; it
    // adds nothing to the path.
    if (info->instance_name() == "SELF") continue;
    parts.push_back(info->instance_name());
    if (info->class_type() != nullptr && leaves.IsLeaf(*info->class_type())) {
      origin.in_leaf = true;
      break;
    }
  }
  origin.path = absl::StrJoin(parts, ".");
  return origin;
}

bool IsNeutral(const jit::Node* node) {
  // Constants are hoisted to the top with their call stacks; profiling
  // nodes have none. Neither ends a call.
  return node->kind() == c10::prim::Constant || node->kind() == c10::prim::profile;
}

// torchvision's numbering, over the leaf calls and ops read so far.
using CallCounts = LocalSuffixes;

// Reads one block. A prim::If whose condition a leaf computes is part of
// that leaf (BatchNorm's `if self.training`); any other is the model's own
// branch: FX takes one branch, so each branch is read from the same counts,
// and the larger counts go on.
class CallReader {
 public:
  explicit CallReader(const LeafModules& leaves) : leaves_(leaves) {}

  void Read(jit::Block* block, CallCounts& counts, std::vector<InlinedCall>& calls) {
    for (jit::Node* node : block->nodes()) {
      if (IsNeutral(node)) continue;
      if (node->kind() == c10::prim::If) {
        const Origin condition = OriginOf(node->input(0)->node(), leaves_);
        if (condition.in_leaf) {
          // Part of a leaf call; which one its branches say (the condition
          // may be shared with an earlier call of the same module).
          ReadLeafNode(node, OriginOfFirstInside(node).value_or(condition), counts, calls);
          continue;
        }
        Close(counts, calls);
        CallCounts merged = counts;
        for (jit::Block* branch : node->blocks()) {
          CallCounts branch_counts = counts;
          Read(branch, branch_counts, calls);
          Close(branch_counts, calls);
          merged.MergeMax(branch_counts);
        }
        counts = std::move(merged);
        continue;
      }
      const Origin origin = OriginOf(node, leaves_);
      if (!origin.known) continue;
      if (origin.in_leaf) {
        ReadLeafNode(node, origin, counts, calls);
        continue;
      }
      Close(counts, calls);
      if (node->kind().is_aten()) {
        InlinedCall op;
        const std::string name = OpNameWithoutUnderscores(node);
        op.named.name = counts.Unique(origin.path.empty() ? name : absl::StrCat(origin.path, ".", name));
        op.named.node = node;
        calls.push_back(std::move(op));
      }
    }
  }

  // A node of a leaf call: continues the call being read, or starts one.
  void ReadLeafNode(jit::Node* node, const Origin& origin, CallCounts& counts, std::vector<InlinedCall>& calls) {
    if (origin.path != open_.path || origin.call_site != open_.call_site) Close(counts, calls);
    open_ = origin;
    last_ = node;
  }

  // The origin of the first node with a call stack inside `node`'s blocks.
  std::optional<Origin> OriginOfFirstInside(const jit::Node* node) const {
    for (const jit::Block* block : node->blocks()) {
      for (const jit::Node* inner : block->nodes()) {
        if (IsNeutral(inner)) continue;
        Origin origin = OriginOf(inner, leaves_);
        if (origin.known && origin.in_leaf) return origin;
        if (auto nested = OriginOfFirstInside(inner)) return nested;
      }
    }
    return std::nullopt;
  }

  // Ends the leaf call being read, if any.
  void Close(CallCounts& counts, std::vector<InlinedCall>& calls) {
    if (!open_.in_leaf) return;
    const std::string key = absl::StrCat(open_.path, "@", open_.call_site);
    InlinedCall call;
    call.leaf_call = true;
    call.named.node = last_;
    if (last_->outputs().size() == 1 && IsTensor(last_->output())) call.named.value = last_->output();
    if (auto seen = read_calls_.find(key); seen != read_calls_.end()) {
      // The executor moved another node into this call: its rest ends it.
      call.named.name = calls[seen->second].named.name;
      calls[seen->second] = std::move(call);
    } else {
      call.named.name = counts.Unique(open_.path);
      read_calls_[key] = calls.size();
      calls.push_back(std::move(call));
    }
    open_ = Origin();
  }

 private:
  const LeafModules& leaves_;
  Origin open_;
  jit::Node* last_ = nullptr;
  // Calls read so far, by path and call site: where in `calls` each is.
  absl::flat_hash_map<std::string, size_t> read_calls_;
};

}  // namespace

std::vector<InlinedCall> NameInlinedCalls(const std::shared_ptr<jit::Graph>& graph, const LeafModules& leaves) {
  std::vector<InlinedCall> calls;
  CallCounts counts;
  CallReader reader(leaves);
  reader.Read(graph->block(), counts, calls);
  reader.Close(counts, calls);
  return calls;
}

}  // namespace featx
