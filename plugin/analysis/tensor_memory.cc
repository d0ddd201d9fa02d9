#include "plugin/analysis/tensor_memory.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "plugin/analysis/call_marks.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

bool SharesSet(const c10::AliasInfo& a, const c10::AliasInfo& b) {
  for (const c10::Symbol& set : a.beforeSets()) {
    if (b.beforeSets().count(set)) return true;
  }
  return false;
}

bool IsPack(const jit::Node* n) {
  return n->kind() == c10::prim::TupleConstruct || n->kind() == c10::prim::ListConstruct;
}

// An op that only reads the argument at `use` (aten::cat's list): its schema
// marks no alias there. What it returns is new.
bool ReadsOnly(const jit::Use& use) {
  const c10::FunctionSchema* schema = use.user->maybeSchema();
  return schema != nullptr && !schema->is_vararg() && use.offset < schema->arguments().size() &&
         schema->arguments()[use.offset].alias_info() == nullptr;
}

}  // namespace

Origin FindOrigin(jit::Value* v, CallSummaries& summaries) {
  for (int steps = 0; steps < 1000; ++steps) {
    jit::Node* producer = v->node();
    if (producer->kind() == c10::prim::Param) return {Origin::kGraphInput, v};
    if (producer->kind() == c10::prim::GetAttr) return {Origin::kModuleState, v};
    if (IsCall(producer)) {
      if (producer->outputs().size() != 1) return {Origin::kUnknown, v};
      const CallSummary& summary = summaries.Of(producer);
      if (!summary.output_may_alias) return {Origin::kFresh, v};
      if (!summary.output_aliases_only_arguments) return {Origin::kUnknown, v};
      jit::Value* argument = SoleTensorArgument(producer);
      if (argument == nullptr) return {Origin::kUnknown, v};
      v = argument;
      continue;
    }
    const c10::FunctionSchema* schema = producer->maybeSchema();
    if (schema == nullptr || v->offset() >= schema->returns().size()) return {Origin::kUnknown, v};
    const c10::AliasInfo* result = schema->returns()[v->offset()].alias_info();
    if (result == nullptr) return {Origin::kFresh, v};
    if (result->isWildcardBefore() || result->isWildcardAfter()) return {Origin::kUnknown, v};
    jit::Value* source = nullptr;
    for (size_t i = 0; i < schema->arguments().size() && i < producer->inputs().size(); ++i) {
      const c10::AliasInfo* argument = schema->arguments()[i].alias_info();
      if (argument == nullptr || !SharesSet(*argument, *result)) continue;
      if (source != nullptr) return {Origin::kUnknown, v};
      source = producer->input(i);
    }
    if (source == nullptr) return {Origin::kUnknown, v};
    v = source;
  }
  return {Origin::kUnknown, v};
}

jit::Value* FreshRoot(jit::Value* v, CallSummaries& summaries) {
  const Origin origin = FindOrigin(v, summaries);
  return origin.kind == Origin::kFresh ? origin.value : nullptr;
}

std::optional<bool> MemoryUsedAfter(jit::Value* root, const jit::Node* node, Access access, CallSummaries& summaries) {
  std::vector<jit::Value*> aliases = {root};
  absl::flat_hash_set<jit::Value*> visited = {root};
  while (!aliases.empty()) {
    jit::Value* alias = aliases.back();
    aliases.pop_back();
    const bool container = !alias->type()->isSubtypeOf(*c10::TensorType::get());
    for (const jit::Use& use : alias->uses()) {
      jit::Node* user = use.user;
      // featx.restore_calls's marks only name values: they do not read them.
      if (user->kind() == kCallEnd) continue;
      const bool after = user != node && user->isAfter(node);
      // A tuple or list is followed only into what returns it, packs it
      // again, or reads it (aten::cat); not into an unpack or a call.
      if (container && !ReadsOnly(use) && !IsPack(user) && user->kind() != c10::prim::Return) return std::nullopt;
      bool writes = false;
      std::vector<jit::Value*> derived;
      if (user->kind() == c10::prim::Return) {
        if (user->owningBlock() != user->owningGraph()->block()) return std::nullopt;  // leaves a block
        if (access == Access::kAny && after) return true;
        continue;
      }
      if (IsPack(user)) {
        // Packed into a tuple or list (a model's returned tuple, the list
        // torch.cat reads): followed as the container, below.
        derived.push_back(user->output());
      } else if (IsCall(user)) {
        const CallSummary& summary = summaries.Of(user);
        writes = summary.writes_arguments;
        if (summary.output_may_alias) derived.assign(user->outputs().begin(), user->outputs().end());
      } else {
        const c10::FunctionSchema* schema = user->maybeSchema();
        if (schema == nullptr || schema->is_vararg() || use.offset >= schema->arguments().size()) return std::nullopt;
        const c10::AliasInfo* argument = schema->arguments()[use.offset].alias_info();
        if (argument != nullptr) {
          if (argument->isWildcardBefore() || argument->isWildcardAfter()) return std::nullopt;
          writes = argument->isWrite();
          for (size_t i = 0; i < schema->returns().size(); ++i) {
            const c10::AliasInfo* result = schema->returns()[i].alias_info();
            if (result == nullptr) continue;
            if (result->isWildcardBefore() || result->isWildcardAfter()) return std::nullopt;
            if (SharesSet(*argument, *result)) derived.push_back(user->output(i));
          }
        }
      }
      if (after && (writes || access == Access::kAny)) return true;
      for (jit::Value* d : derived) {
        if (!d->type()->isSubtypeOf(*c10::TensorType::get()) && !IsPack(user)) return std::nullopt;
        if (visited.insert(d).second) aliases.push_back(d);
      }
    }
  }
  return false;
}

}  // namespace featx
