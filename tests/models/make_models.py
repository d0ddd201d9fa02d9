"""Makes one test model and torchvision's reference answers for it.

Run by the build (tests/models/BUILD.bazel) with Debian's /usr/bin/python3, which
has torch and torchvision; nothing it writes is committed. For --model NAME it
writes into --out_dir:

  NAME.pt              the model, scripted (torch.jit.script), in eval mode
  NAME.input.pt        a seeded input tensor (torch.save)
  NAME.names.json      torchvision's get_graph_node_names:
                       {"train": [...], "eval": [...]}, or {"error": "..."}
                       when FX cannot trace the model (then the values are
                       empty dicts)
  NAME.values.pt       {node name: Tensor} from create_feature_extractor in
                       eval mode, each value cloned right at its node, so a
                       later in-place op cannot overwrite it
  NAME.raw_values.pt   the same nodes as create_feature_extractor returns
                       them, without the clones (what torchvision users get)
"""
import argparse
import importlib
import json
import os
import sys
import warnings

import torch
import torchvision
from torch import fx
from torchvision.models import efficientnet, resnet, swin_transformer
from torchvision.models import feature_extraction as fe
from torchvision.models.video import resnet as video_resnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handwritten  # noqa: E402

# How many nodes of a torchvision model get reference values. Hand-written
# models are small: all of their tensor-valued nodes get one.
SAMPLED_NODES = 12

# Scripted with random weights; each gets a 1x3x64x64 input.
TORCHVISION_MODELS = (
    "resnet18",
    "resnet50",
    "mobilenet_v3_small",
    "mobilenet_v2",
    "convnext_tiny",
    "squeezenet1_0",
    "shufflenet_v2_x0_5",
    "densenet121",
    "efficientnet_b0",
    "mnasnet0_5",
    "regnet_x_400mf",
    "googlenet",
    "swin_t",
)
TORCHVISION_INPUT_SHAPE = (1, 3, 64, 64)

# Other families, built the way their users build them (random weights, no
# download): segmentation heads on an IntermediateLayerGetter backbone, a
# detection backbone with FPN (both return dicts), and a quantized model.
# Video, wide/grouped and v2 models are torchvision's own classes and blocks
# cut to a few stages: the names come from the same code, and the files stay
# small (a full r3d_18 or wide_resnet50_2 is 130-270 MB and adds nothing a
# test can see).
def _video_resnet():
    # r3d's 3D, r(2+1)d's factorised and mc3's no-temporal convolutions in one
    # model, on R(2+1)D's stem; layer4 (512 channels, 10M weights) dropped.
    model = torchvision.models.video.VideoResNet(
        block=video_resnet.BasicBlock,
        conv_makers=[video_resnet.Conv3DSimple, video_resnet.Conv2Plus1D, video_resnet.Conv3DNoTemporal,
                     video_resnet.Conv3DSimple],
        layers=[1, 1, 1, 1], stem=video_resnet.R2Plus1dStem, num_classes=10)
    model.layer4 = torch.nn.Identity()
    model.fc = torch.nn.Linear(256, 10)
    return model


def _s3d():
    # S3D up to its second separable inception block.
    model = importlib.import_module("torchvision.models.video.s3d").S3D(num_classes=10)
    model.features = torch.nn.Sequential(*list(model.features)[:7])
    model.avgpool = torch.nn.AdaptiveAvgPool3d(1)
    model.classifier[1] = torch.nn.Conv3d(480, 10, 1)
    return model


def _wide_resnext():
    # Bottlenecks twice as wide as resnet50's, in 8 groups; layer4 dropped.
    model = resnet.ResNet(resnet.Bottleneck, [1, 1, 1, 1], groups=8, width_per_group=16, num_classes=10)
    model.layer4 = torch.nn.Identity()
    model.fc = torch.nn.Linear(1024, 10)
    return model


def _efficientnet_v2():
    fused, mb = efficientnet.FusedMBConvConfig, efficientnet.MBConvConfig
    setting = [fused(1, 3, 1, 16, 16, 1), fused(4, 3, 2, 16, 24, 2), mb(4, 3, 2, 24, 40, 1.0, 1.0)]
    return efficientnet.EfficientNet(setting, dropout=0.2, last_channel=128, num_classes=10)


def _swin_v2():
    return swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=24, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
        stochastic_depth_prob=0.2, block=swin_transformer.SwinTransformerBlockV2,
        downsample_layer=swin_transformer.PatchMergingV2, num_classes=10)


VIDEO_INPUT_SHAPE = (1, 3, 8, 32, 32)
FAMILY_MODELS = {
    "lraspp_mobilenet_v3_large": (lambda: torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None), TORCHVISION_INPUT_SHAPE),
    "deeplabv3_mobilenet_v3_large": (lambda: torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, aux_loss=True), TORCHVISION_INPUT_SHAPE),
    "resnet18_fpn": (lambda: torchvision.models.detection.backbone_utils.resnet_fpn_backbone(
        backbone_name="resnet18", weights=None, trainable_layers=5), TORCHVISION_INPUT_SHAPE),
    "quantized_mobilenet_v2": (lambda: torchvision.models.quantization.mobilenet_v2(weights=None, quantize=True),
                               TORCHVISION_INPUT_SHAPE),
    "video_resnet": (_video_resnet, VIDEO_INPUT_SHAPE),
    "s3d": (_s3d, VIDEO_INPUT_SHAPE),
    "wide_resnext": (_wide_resnext, TORCHVISION_INPUT_SHAPE),
    "efficientnet_v2": (_efficientnet_v2, TORCHVISION_INPUT_SHAPE),
    "swin_v2": (_swin_v2, TORCHVISION_INPUT_SHAPE),
}

# Only for benchmarks (bench/vs_torchvision.sh), never in the test set.
BENCH_MODELS = {
    "inception_v3": (lambda: torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False),
                     (1, 3, 96, 96)),
}

# Nodes whose reference values tests rely on, whatever the sampling picks:
# resnet18's bn1 in the first block is overwritten by the in-place ReLU after it.
REQUIRED_NODES = {
    "resnet18": ["x", "layer1.0.bn1", "layer1.0.add", "fc"],
    "mobilenet_v3_small": ["features.1.block.1", "features.1.block.2"],
    "convnext_tiny": ["features.1.0.features_1_0_layer_scale", "features.1.0.add", "classifier.2"],
}


# The quantized engine a process starts with, which is the one libtorch picks
# when a server loads the model (onednn, fbgemm or x86, by build and CPU).
DEFAULT_QUANTIZED_ENGINE = torch.backends.quantized.engine


def build(name):
    if name in TORCHVISION_MODELS:
        model = getattr(torchvision.models, name)(weights=None)
        return model, TORCHVISION_INPUT_SHAPE
    ctor, shape = {**FAMILY_MODELS, **BENCH_MODELS, **handwritten.MODELS}[name]
    return repack_as_loaded(ctor()), shape


def repack_as_loaded(model):
    """Packs quantized weights as a server's torch.jit.load does.

    torchvision quantizes for qnnpack and leaves that engine selected; a saved
    model keeps its weights unpacked and packs them at load time for the
    loading process's engine, whose integer kernels round differently on some
    CPUs (AVX2 without AVX-512). The reference is what the deployed model
    computes, so the eager model's weights are packed again the same way: a
    quantized module's state dict holds them unpacked, and loading it packs.
    """
    torch.backends.quantized.engine = DEFAULT_QUANTIZED_ENGINE
    if any(p.is_quantized for p in model.state_dict().values() if isinstance(p, torch.Tensor)):
        model.load_state_dict(model.state_dict())
    return model


def sample_names(model, example, required):
    tracer = fe.NodePathTracer(**fe._set_default_tracer_kwargs(None))
    graph = tracer.trace(model)
    module = fx.GraphModule(tracer.root, graph)
    is_tensor = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node):
            value = super().run_node(node)
            is_tensor[node] = isinstance(value, torch.Tensor)
            return value

    with torch.no_grad():
        Recorder(module).run(example)
    names = [q for n, q in tracer.node_to_qualname.items() if is_tensor.get(n)]
    if len(names) <= SAMPLED_NODES:
        return names
    step = (len(names) - 1) / (SAMPLED_NODES - 1)
    chosen = {names[round(i * step)] for i in range(SAMPLED_NODES)} | set(required)
    return [n for n in names if n in chosen]


def clone_outputs_at_their_nodes(extractor):
    """Rewrites the extractor so each output is cloned right after its node."""
    graph = extractor.graph
    output = next(n for n in reversed(graph.nodes) if n.op == "output")
    cloned = {}
    for key, node in output.args[0].items():
        with graph.inserting_after(node):
            cloned[key] = graph.call_function(torch.clone, (node,))
    output.args = (cloned,)
    extractor.recompile()


def reference_values(model, example, names, train_names):
    # Values are taken in eval mode; train mode only needs some valid choice.
    train_choice = [n for n in names if n in train_names] or train_names[-1:]
    extractor = fe.create_feature_extractor(
        model, train_return_nodes=train_choice, eval_return_nodes=names, suppress_diff_warning=True
    ).eval()
    with torch.no_grad():
        raw = {k: v.clone() for k, v in extractor(example.clone()).items()}
    clone_outputs_at_their_nodes(extractor)
    with torch.no_grad():
        cloned = extractor(example.clone())
    return cloned, raw


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True,
                        choices=sorted(list(TORCHVISION_MODELS) + list(FAMILY_MODELS) + list(BENCH_MODELS) +
                                       list(handwritten.MODELS)))
    parser.add_argument("--out_dir", required=True)
    args = parser.parse_args()

    torch.manual_seed(0)
    model, shape = build(args.model)
    model.eval()
    example = torch.randn(*shape)
    out = os.path.join(args.out_dir, args.model)

    saved = torch.jit.trace(model, example) if args.model in handwritten.TRACED else torch.jit.script(model)
    saved.save(out + ".pt")
    torch.save(example, out + ".input.pt")

    # FX cannot trace data-dependent control flow or iterate a Proxy; the
    # error is the reference answer then.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train, eval_ = fe.get_graph_node_names(model)
        answer = {"train": train, "eval": eval_}
    except Exception as e:
        answer = {"error": f"{type(e).__name__}: {e}".splitlines()[0]}
    values, raw = {}, {}
    if "error" not in answer:
        model.eval()
        names = sample_names(model, example, REQUIRED_NODES.get(args.model, []))
        values, raw = reference_values(model, example, names, train)
    with open(out + ".names.json", "w") as f:
        json.dump(answer, f, indent=1)
    torch.save(values, out + ".values.pt")
    torch.save(raw, out + ".raw_values.pt")


if __name__ == "__main__":
    main()
