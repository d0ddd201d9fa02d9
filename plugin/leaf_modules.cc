#include "plugin/leaf_modules.h"

#include <algorithm>

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
bool IsTorchvisionOpsLeaf(const std::string& python_class) {
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
  return kLeaves.contains(python_class);
}

std::string BareName(const std::string& python_class) {
  size_t dot = python_class.rfind('.');
  return dot == std::string::npos ? python_class : python_class.substr(dot + 1);
}

}  // namespace

std::string PythonClassName(const c10::ClassType& type) {
  const std::string qualified = type.name() ? type.name()->qualifiedName() : type.str();
  // One pass, no split and join: this runs for every module class a rewrite
  // meets (76 in efficientnet_b0, whose blocks each get a mangled class).
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

absl::StatusOr<LeafModules> LeafModules::Create(const torch::jit::Module& module,
                                                const std::vector<std::string>& user_leaves) {
  LeafModules leaves;
  std::vector<std::string> classes;  // the model's module classes, bare and qualified; made on first need
  for (const std::string& raw : user_leaves) {
    std::string name(absl::StripPrefix(raw, kTorchScriptPrefix));
    if (name.empty()) continue;
    if (classes.empty()) {
      absl::flat_hash_set<std::string> seen;
      for (const torch::jit::Module& m : module.modules()) {
        const std::string python_class = PythonClassName(*m.type());
        for (std::string candidate : {BareName(python_class), python_class}) {
          if (seen.insert(candidate).second) classes.push_back(candidate);
        }
      }
    }
    if (std::find(classes.begin(), classes.end(), name) == classes.end()) {
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
  const std::string python_class = PythonClassName(type);
  return IsTorchNnLeaf(python_class) || IsTorchvisionOpsLeaf(python_class) || user_leaves_.contains(python_class) ||
         user_leaves_.contains(BareName(python_class));
}

}  // namespace featx
