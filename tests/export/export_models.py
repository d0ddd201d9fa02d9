"""The torchvision models the export tests export, and how (small configurations of the
transformers keep them fast)."""
import os

import torch

HAS_EXPORT = hasattr(torch, "export") and hasattr(torch.export, "save")


def small_vit():
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)


def small_swin():
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4])


def small_convnext():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return ConvNeXt([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)], stochastic_depth_prob=0.1)


def models():
    import torchvision.models as M
    image = (1, 3, 64, 64)
    return {
        # name: (constructor, input shape)
        "resnet18": (M.resnet18, image),
        "mobilenet_v2": (M.mobilenet_v2, image),
        "densenet121": (M.densenet121, image),
        "regnet_y_400mf": (M.regnet_y_400mf, image),
        "squeezenet1_0": (M.squeezenet1_0, image),
        "r3d_18": (M.video.r3d_18, (1, 3, 4, 32, 32)),
        "efficientnet_b0": (M.efficientnet_b0, image),
        "convnext": (small_convnext, image),
        "shufflenet_v2_x0_5": (M.shufflenet_v2_x0_5, image),
        "deeplabv3_mobilenet_v3_large": (
            lambda: M.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None), image),
        "vit": (small_vit, (1, 3, 32, 32)),
        "swin": (small_swin, (1, 3, 32, 32)),
    }


def export(name, directory, dynamic_batch=False, strict=False, core_aten=False):
    """(eval-mode model, input, path of its exported program saved in `directory`). With
    `dynamic_batch` the program takes any batch size up to 64 (as servers batch), exported at 2:
    export specializes a dimension its example gives as 1. `strict` exports with TorchDynamo;
    `core_aten` saves the program decomposed to the Core ATen opset (`run_decompositions()`, as
    before AOTInductor or ExecuTorch)."""
    ctor, shape = models()[name]
    torch.manual_seed(0)
    model = ctor().eval()
    dynamic_shapes = None
    if dynamic_batch:
        shape = (2,) + shape[1:]
        dynamic_shapes = ({0: torch.export.Dim("batch", min=1, max=64)},)
    x = torch.randn(*shape)
    program = torch.export.export(model, (x,), dynamic_shapes=dynamic_shapes, strict=strict)
    if core_aten:
        program = program.run_decompositions()
    suffix = "".join(s for s, on in [("_dynamic", dynamic_batch), ("_strict", strict), ("_core", core_aten)] if on)
    path = os.path.join(directory, name + suffix + ".pt2")
    torch.export.save(program, path)
    return model, x, path


def fx_kinds(model, x):
    """torchvision's names -> (FX's op, why export has no node for it or None, whether its value is one
    tensor): from torchvision's FX graph of the eval-mode model, run on `x`."""
    import operator
    from torch.fx.passes.shape_prop import ShapeProp
    from torchvision.models.feature_extraction import NodePathTracer, _set_default_tracer_kwargs

    tracer = NodePathTracer(**_set_default_tracer_kwargs(None))
    graph = tracer.trace(model)
    module = torch.fx.GraphModule(tracer.root, graph)
    ShapeProp(module).propagate(x.clone())
    kinds = {}
    for node in graph.nodes:
        name = tracer.node_to_qualname.get(node)
        if name is None:
            continue
        value_kind = None
        if "tensor_meta" not in node.meta:
            value_kind = "not a tensor"
        if node.op == "call_function" and node.target is operator.getitem and \
                node.args[0].meta.get("type") in (tuple, list):
            value_kind = "tuple item"
        if node.op == "call_module":
            sub = model.get_submodule(node.target)
            if type(sub).__name__ in ("Dropout", "StochasticDepth", "Identity"):
                value_kind = "identity in eval"
        kinds[name] = (node.op, value_kind, node.meta.get("type") is torch.Tensor)
    return kinds
