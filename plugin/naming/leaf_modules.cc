#include "plugin/naming/leaf_modules.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "plugin/did_you_mean.h"

namespace featx {
namespace {

constexpr char kTorchScriptPrefix[] = "__torch__.";

// FX's default: modules of torch.nn are leaves, except the Sequential it
// traces through (ModuleList and ModuleDict are never called).
bool IsTorchNnLeaf(const std::string& python_class) {
  if (!absl::StartsWith(python_class, "torch.nn.") && !absl::StartsWith(python_class, "torch.ao.nn.")) return false;
  return python_class != "torch.nn.modules.container.Sequential";
}

// torchvision's _get_leaf_modules_for_ops(): the module classes that
// torchvision.ops exports (torchvision 0.14), and torchvision's own
// subclasses of them, which FX's isinstance test also makes leaves but whose
// base class TorchScript does not keep.
const absl::flat_hash_set<std::string>& TorchvisionOpsLeaves() {
  static const absl::flat_hash_set<std::string> kLeaves = {
      "torchvision.ops.deform_conv.DeformConv2d",
      "torchvision.ops.drop_block.DropBlock2d",
      "torchvision.ops.drop_block.DropBlock3d",
      "torchvision.ops.feature_pyramid_network.FeaturePyramidNetwork",
      "torchvision.ops.misc.Conv2dNormActivation",
      "torchvision.ops.misc.Conv3dNormActivation",
      "torchvision.ops.misc.FrozenBatchNorm2d",
      "torchvision.ops.misc.MLP",
      "torchvision.ops.misc.Permute",
      "torchvision.ops.misc.SqueezeExcitation",
      "torchvision.ops.poolers.MultiScaleRoIAlign",
      "torchvision.ops.ps_roi_align.PSRoIAlign",
      "torchvision.ops.ps_roi_pool.PSRoIPool",
      "torchvision.ops.roi_align.RoIAlign",
      "torchvision.ops.roi_pool.RoIPool",
      "torchvision.ops.stochastic_depth.StochasticDepth",
      // Subclasses, found by walking torchvision.models with issubclass.
      "torchvision.models.quantization.mobilenetv3.QuantizableSqueezeExcitation",
      "torchvision.models.regnet.SimpleStemIN",
      "torchvision.models.vision_transformer.MLPBlock",
  };
  return kLeaves;
}

bool IsTorchvisionOpsLeaf(const std::string& python_class) { return TorchvisionOpsLeaves().contains(python_class); }

// Whether `qualified` (without `__torch__.`) is `python_class` once its
// `___torch_mangle_<n>` parts are dropped; PythonClassName without building it.
bool UnmangledEquals(absl::string_view qualified, absl::string_view python_class) {
  // A loop of find()s: absl::StrSplit's iterator cost 5x this here.
  for (;;) {
    const size_t dot = qualified.find('.');
    const absl::string_view part = qualified.substr(0, dot);
    if (!absl::StartsWith(part, "___torch_mangle_")) {
      if (!absl::ConsumePrefix(&python_class, part)) return false;
      if (!python_class.empty() && !absl::ConsumePrefix(&python_class, ".")) return false;
    }
    if (dot == absl::string_view::npos) return python_class.empty();
    qualified.remove_prefix(dot + 1);
  }
}

// Whether `qualified` (without `__torch__.`) names one of
// TorchvisionOpsLeaves(), looked up by its last part.
bool IsTorchvisionOpsLeafQualified(absl::string_view qualified) {
  static const absl::flat_hash_map<absl::string_view, std::vector<absl::string_view>>* const kByClassName = [] {
    auto* by_name = new absl::flat_hash_map<absl::string_view, std::vector<absl::string_view>>;
    for (const std::string& leaf : TorchvisionOpsLeaves()) {
      (*by_name)[absl::string_view(leaf).substr(leaf.rfind('.') + 1)].push_back(leaf);
    }
    return by_name;
  }();
  auto it = kByClassName->find(qualified.substr(qualified.rfind('.') + 1));
  if (it == kByClassName->end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](absl::string_view leaf) { return UnmangledEquals(qualified, leaf); });
}

}  // namespace

std::string BareName(absl::string_view qualified) {
  const size_t dot = qualified.rfind('.');
  return std::string(dot == absl::string_view::npos ? qualified : qualified.substr(dot + 1));
}

// One pass, no split and join: this runs for every module class a rewrite
// meets (76 in efficientnet_b0, whose blocks each get a mangled class).
std::string UnmangledPythonName(absl::string_view qualified) {
  absl::string_view rest = absl::StripPrefix(qualified, kTorchScriptPrefix);
  std::string name;
  name.reserve(rest.size());
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const absl::string_view part = rest.substr(0, dot);
    if (!absl::StartsWith(part, "___torch_mangle_")) {
      if (!name.empty()) name.push_back('.');
      name.append(part.data(), part.size());
    }
    if (dot == absl::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return name;
}

std::string PythonClassName(const c10::ClassType& type) {
  return type.name() ? UnmangledPythonName(type.name()->qualifiedName()) : UnmangledPythonName(type.str());
}

absl::StatusOr<LeafModules> LeafModules::Create(const torch::jit::Module& module,
                                                const std::vector<std::string>& user_leaves) {
  std::vector<std::string> classes;  // made only when there are names to check
  const bool any = std::any_of(user_leaves.begin(), user_leaves.end(), [](const std::string& raw) {
    return !absl::StripPrefix(raw, kTorchScriptPrefix).empty();
  });
  if (any) {
    for (const torch::jit::Module& m : module.modules()) classes.push_back(PythonClassName(*m.type()));
  }
  return Create(classes, user_leaves);
}

absl::StatusOr<LeafModules> LeafModules::Create(const std::vector<std::string>& python_classes,
                                                const std::vector<std::string>& user_leaves) {
  LeafModules leaves;
  std::vector<std::string> classes;  // the model's module classes, bare and qualified
  absl::flat_hash_set<std::string> seen;
  for (const std::string& python_class : python_classes) {
    for (std::string candidate : {BareName(python_class), python_class}) {
      if (seen.insert(candidate).second) classes.push_back(candidate);
    }
  }
  for (const std::string& raw : user_leaves) {
    std::string name(absl::StripPrefix(raw, kTorchScriptPrefix));
    if (name.empty()) continue;
    if (!seen.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf module class '", raw, "' is not a module class of this model", DidYouMean(name, classes)));
    }
    leaves.user_leaves_.insert(name);
  }
  return leaves;
}

LeafModules LeafModules::FromClassNames(const std::vector<std::string>& user_leaves) {
  LeafModules leaves;
  for (const std::string& raw : user_leaves) {
    std::string name(absl::StripPrefix(raw, kTorchScriptPrefix));
    if (!name.empty()) leaves.user_leaves_.insert(name);
  }
  return leaves;
}

bool LeafModules::IsLeaf(const c10::ClassType& type) const {
  // Without leaves of the user's, decided without building the unmangled
  // name (an allocation for each of a model's classes).
  if (type.name() && user_leaves_.empty()) {
    const absl::string_view qualified = absl::StripPrefix(type.name()->qualifiedName(), kTorchScriptPrefix);
    if (absl::StartsWith(qualified, "torch.nn.") || absl::StartsWith(qualified, "torch.ao.nn.")) {
      return !absl::EndsWith(qualified, ".Sequential") ||
             !UnmangledEquals(qualified, "torch.nn.modules.container.Sequential");
    }
    // (A mangled first part would hide a torch.nn class.)
    if (!absl::StartsWith(qualified, "___torch_mangle_")) return IsTorchvisionOpsLeafQualified(qualified);
  }
  return IsLeafClass(PythonClassName(type));
}

bool LeafModules::IsLeafClass(const std::string& python_class) const {
  if (IsTorchNnLeaf(python_class) || IsTorchvisionOpsLeaf(python_class)) return true;
  return !user_leaves_.empty() &&
         (user_leaves_.contains(python_class) || user_leaves_.contains(BareName(python_class)));
}

}  // namespace featx
