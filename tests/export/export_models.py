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


def export(name, directory, dynamic_batch=False):
    """(eval-mode model, input, path of its exported program saved in `directory`). With
    `dynamic_batch` the program takes any batch size up to 64 (as servers batch), exported at 2:
    export specializes a dimension its example gives as 1."""
    ctor, shape = models()[name]
    torch.manual_seed(0)
    model = ctor().eval()
    dynamic_shapes = None
    if dynamic_batch:
        shape = (2,) + shape[1:]
        dynamic_shapes = ({0: torch.export.Dim("batch", min=1, max=64)},)
    x = torch.randn(*shape)
    path = os.path.join(directory, name + ("_dynamic" if dynamic_batch else "") + ".pt2")
    torch.export.save(torch.export.export(model, (x,), dynamic_shapes=dynamic_shapes), path)
    return model, x, path
