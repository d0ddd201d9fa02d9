// Which module calls featx keeps as single nodes ("leaves"), as torchvision's
// LeafModuleAwareTracer decides for a Python module, decided here from the
// TorchScript class names a saved model keeps.
//
// Default leaves: classes of torch.nn (`__torch__.torch.nn.…`, and
// `__torch__.torch.ao.nn.…`) except the Sequential container, which FX traces
// through; and the module classes torchvision exports from torchvision.ops
// (Conv2dNormActivation, SqueezeExcitation, StochasticDepth, …), which
// torchvision adds as default leaves. Users add classes by name.
//
//   FEATX_ASSIGN_OR_RETURN(LeafModules leaves, LeafModules::Create(module, {"MyBlock"}));
//   leaves.IsLeaf(*submodule.type());   // true for every MyBlock, and for Conv2d
#pragma once

#include <string>
#include <vector>

#include <ATen/core/jit_type.h>
#include <torch/csrc/jit/api/module.h>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace featx {

// `__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d` ->
// `torch.nn.modules.conv.Conv2d`: the Python class path TorchScript mangled.
std::string PythonClassName(const c10::ClassType& type);

// The same for a qualified name: `__torch__.a.___torch_mangle_3.f` -> `a.f`.
std::string UnmangledPythonName(absl::string_view qualified);

// The last part of a dotted Python name: `mymodels.MyBlock` -> `MyBlock`.
std::string BareName(absl::string_view qualified);

class LeafModules {
 public:
  // `user_leaves` are class names, either bare (`MyBlock`) or qualified
  // (`mymodels.blocks.MyBlock`, with or without `__torch__.`). Each must name
  // a module class in `module`: a name that matches none is an
  // InvalidArgument error that lists the closest classes.
  static absl::StatusOr<LeafModules> Create(const torch::jit::Module& module,
                                            const std::vector<std::string>& user_leaves);

  // The same for a model known by its module classes' Python names (an
  // exported program's scopes name them).
  static absl::StatusOr<LeafModules> Create(const std::vector<std::string>& python_classes,
                                            const std::vector<std::string>& user_leaves);

  // The same without a module to check the names against (the executor
  // hook sees only graphs): a name that matches no class is simply unused.
  static LeafModules FromClassNames(const std::vector<std::string>& user_leaves);

  bool IsLeaf(const c10::ClassType& type) const;

  // The same for a class by its Python name (`torch.nn.modules.conv.Conv2d`).
  bool IsLeafClass(const std::string& python_class) const;

 private:
  absl::flat_hash_set<std::string> user_leaves_;  // bare and qualified names
};

}  // namespace featx
