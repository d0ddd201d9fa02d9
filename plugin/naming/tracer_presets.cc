#include "plugin/naming/tracer_presets.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/did_you_mean.h"
#include "plugin/naming/leaf_functions.h"
#include "plugin/naming/leaf_modules.h"
#include "plugin/status.h"

namespace featx {

const std::vector<TracerPreset>& TracerPresets() {
  static const auto* presets = new std::vector<TracerPreset>{
      {"torchvision", "torchvision's NodePathTracer with its defaults (featx's default)", {}, {}},
      // timm 1.0.31: timm.layers.get_notrace_modules() and get_notrace_functions() once timm.models is
      // imported, less the functions FX does not autowrap (names starting with "_").
      {"timm",
       "timm's feature extraction (timm.models.get_graph_node_names): its register_notrace_module and "
       "register_notrace_function registries",
       {
           "timm.layers.cond_conv2d.CondConv2d",
           "timm.layers.conv2d_same.Conv2dSame",
           "timm.layers.inplace_abn.InplaceAbn",
           "timm.layers.non_local_attn.BilinearAttnTransform",
           "timm.layers.norm_act.BatchNormAct2d",
           "timm.layers.norm_act.FrozenBatchNormAct2d",
           "timm.layers.norm_act.SyncBatchNormAct",
           "timm.layers.pool2d_same.AvgPool2dSame",
           "timm.layers.pool2d_same.MaxPool2dSame",
           "timm.layers.std_conv.ScaledStdConv2dSame",
           "timm.layers.std_conv.StdConv2dSame",
           "timm.models.convit.GPSA",
           "timm.models.cpubone.ConvAttention",
           "timm.models.edgenext.PositionalEncodingFourier",
           "timm.models.efficientvit_mit.LiteMLA",
           "timm.models.efficientvit_msra.LocalWindowAttention",
           "timm.models.lowformer.ConvAttention",
           "timm.models.mobilenetv5.MobileNetV5MultiScaleFusionAdapter",
           "timm.models.mobilevit.MobileVitBlock",
           "timm.models.mobilevit.MobileVitV2Block",
           "timm.models.naflexvit.NaFlexEmbeds",
           "timm.models.nfnet.NormFreeBlock",
           "timm.models.tiny_vit.TinyVitBlock",
           "timm.models.twins.LocallyGroupedAttn",
           "timm.models.vgg.ConvMlp",
           "timm.models.xcit.PositionalEncodingFourier",
       },
       {
           "timm.layers.attention.maybe_add_mask",
           "timm.layers.attention.resolve_self_attn_mask",
           "timm.layers.pos_embed.resample_abs_pos_embed",
           "timm.layers.pos_embed.resample_abs_pos_embed_nhwc",
           "timm.layers.pos_embed_sincos.get_mixed_grid",
           "timm.layers.pos_embed_sincos.make_coords_dinov3",
           "timm.models.crossvit.scale_image",
           "timm.models.davit.window_reverse",
           "timm.models.gcvit.window_reverse",
           "timm.models.hiera.get_resized_mask",
           "timm.models.maxxvit.grid_reverse",
           "timm.models.maxxvit.grid_reverse_nchw",
           "timm.models.maxxvit.window_reverse",
           "timm.models.maxxvit.window_reverse_nchw",
           "timm.models.mvitv2.cal_rel_pos_type",
           "timm.models.mvitv2.reshape_post_pool",
           "timm.models.mvitv2.reshape_pre_pool",
           "timm.models.naflexvit.create_attention_mask",
           "timm.models.naflexvit.global_pool_naflex",
           "timm.models.nest.deblockify",
           "timm.models.qwen3_vit.resample_pos_embed_grid",
           "timm.models.swin_transformer.window_reverse",
           "timm.models.swin_transformer_v2.window_reverse",
           "timm.models.swin_transformer_v2_cr.window_reverse",
           "timm.models.vision_transformer_sam.get_rel_pos",
       }},
  };
  return *presets;
}

absl::StatusOr<const TracerPreset*> FindTracerPreset(absl::string_view name) {
  if (name.empty()) name = "torchvision";
  std::vector<std::string> names;
  for (const TracerPreset& preset : TracerPresets()) {
    if (name == preset.name) return &preset;
    names.push_back(preset.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown tracer '", name, "' (featx knows ",
                                                 absl::StrJoin(names, ", "), ")",
                                                 DidYouMean(std::string(name), names)));
}

absl::StatusOr<TracerOptions> WithTracerPreset(const torch::jit::Module& module, const TracerOptions& options) {
  FEATX_ASSIGN_OR_RETURN(const TracerPreset* preset, FindTracerPreset(options.tracer));
  if (preset->leaf_modules.empty() && preset->leaf_functions.empty()) return options;
  absl::flat_hash_set<std::string> present;
  for (const torch::jit::Module& m : module.modules()) present.insert(PythonClassName(*m.type()));
  for (std::string& function : LeafFunctions::CalledBy(module)) present.insert(std::move(function));
  TracerOptions with = options;
  for (const std::string& name : preset->leaf_modules) {
    if (present.contains(name)) with.leaf_modules.push_back(name);
  }
  for (const std::string& name : preset->leaf_functions) {
    if (present.contains(name)) with.leaf_functions.push_back(name);
  }
  return with;
}

}  // namespace featx
