// featx.fold_module_attributes: plain module attributes (bools, ints,
// floats, strings, None, and tuples or lists of them) become the constants
// FX sees them as at trace time, so branches on them fold away.
//
//   %use_res : bool = prim::GetAttr[name="use_res_connect"](%block)
//   %y = prim::If(%use_res) ...
// in a block whose use_res_connect is False becomes
//   %use_res : bool = prim::Constant[value=0]()
// An Optional attribute that holds None (a conv's bias=False, read as
// `self.bias` by a subclass FX traces through) becomes None as well: FX
// makes no get_attr node for it, and featx then names none.
// `training` is left to SpecializeTraining, which chooses its value, and an
// attribute the graph itself sets (prim::SetAttr) is left alone.
#include "plugin/passes/fold_module_attributes.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/jit/jit_log.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "plugin/analysis/fold_constants.h"
#include "plugin/naming/module_path.h"
#include "plugin/pipeline/pass_registry.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

std::optional<jit::Module> SubmoduleAt(const jit::Module& root, const std::string& path) {
  if (path.empty()) return root;
  jit::Module m = root;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    std::string name(part);
    if (!m.hasattr(name)) return std::nullopt;
    c10::IValue child = m.attr(name);
    if (!child.isModule()) return std::nullopt;
    m = child.toModule();
  }
  return m;
}

bool MayFold(const jit::Node* read) {
  const c10::TypePtr& type = read->output()->type();
  return read->s(c10::attr::name) != "training" && (IsPlainType(type) || type->kind() == c10::TypeKind::OptionalType);
}

// The reads to fold, and "<owner path>/<name>" of the attributes the graph
// writes. Submodule and parameter reads are most of the GetAttrs: their
// owners' paths are never built.
void Collect(jit::Block* block, ModuleValuePaths& paths, std::vector<jit::Node*>* reads,
             absl::flat_hash_set<std::string>* written) {
  for (jit::Node* n : block->nodes()) {
    const bool write = n->kind() == c10::prim::SetAttr;
    if (write || (n->kind() == c10::prim::GetAttr && MayFold(n))) {
      if (const std::optional<std::string>& owner = paths.Of(n->input(0))) {
        if (write) {
          written->insert(absl::StrCat(*owner, "/", n->s(c10::attr::name)));
        } else {
          reads->push_back(n);
        }
      }
    }
    for (jit::Block* b : n->blocks()) Collect(b, paths, reads, written);
  }
}

}  // namespace

void FoldModuleAttributes(std::shared_ptr<jit::Graph>& graph, const jit::Module& module) {
  ModuleValuePaths paths;
  std::vector<jit::Node*> reads;
  absl::flat_hash_set<std::string> written;
  Collect(graph->block(), paths, &reads, &written);
  for (jit::Node* read : reads) {
    const std::string owner = *paths.Of(read->input(0));
    const std::string name = read->s(c10::attr::name);
    if (written.contains(absl::StrCat(owner, "/", name))) continue;
    std::optional<jit::Module> holder = SubmoduleAt(module, owner);
    if (!holder || !holder->hasattr(name)) continue;
    jit::WithInsertPoint guard(read);
    jit::Value* constant = AttributeConstant(*graph, read->output()->type(), holder->attr(name));
    if (constant == nullptr) continue;
    read->output()->replaceAllUsesWith(constant);
    read->destroy();
  }
  GRAPH_DUMP("After featx FoldModuleAttributes: ", graph);
}

namespace {

absl::Status FoldModuleAttributesStep(Rewrite& rewrite) {
  return TorchCall([&] { FoldModuleAttributes(rewrite.inlined, rewrite.module); });
}

const PassRegistration kRegistration({{"featx.fold_module_attributes",
                                       "replaces reads of plain module attributes with their values, as FX sees them",
                                       Stage::kInlined, Stage::kInlined},
                                      FoldModuleAttributesStep});

}  // namespace

}  // namespace featx
