"""featx on exported programs (.pt2) against torchvision on the eager model, side by side in one run:
node names (featx's program_node_names on the archive vs get_graph_node_names) and a feature extractor
(featx's rewrite_program, which reads the archive and writes a new one, weights included, vs
create_feature_extractor, which rewrites in memory). Same models, same nodes; torch.export's own time
(export + save) is given for scale. CPU time of this process, median of 5 warm calls.

    FEATX_LIBTORCH=pip tools/bazel.sh run //bench:export_bench

Arguments: the plugin (libfeatx.so) and the package directory (python/).
"""
import json
import os
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)
PLUGIN, PACKAGE = (os.path.abspath(a) for a in sys.argv[1:3])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["FEATX_PLUGIN"] = PLUGIN
sys.path.insert(0, PACKAGE)

import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names  # noqa: E402

import featx  # noqa: E402, F401 (loads the plugin's ops)
from torchvision_times import median_seconds  # noqa: E402

# name: (constructor, input shape, return nodes)
MODELS = {
    "resnet50": (torchvision.models.resnet50, (1, 3, 224, 224), "layer1,layer3,fc"),
    "convnext_tiny": (torchvision.models.convnext_tiny, (1, 3, 224, 224), "features.1,features.5,classifier.2"),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, (1, 3, 224, 224), "features.2,features.6,classifier.1"),
    "densenet121": (torchvision.models.densenet121, (1, 3, 224, 224), "features.denseblock1,features.denseblock3"),
    "vit_b_16": (torchvision.models.vit_b_16, (1, 3, 224, 224), "encoder.layers.encoder_layer_5,heads.head"),
    "r3d_18": (torchvision.models.video.r3d_18, (1, 3, 8, 112, 112), "layer2,layer4,fc"),
    "deeplabv3_mobilenet_v3_large": (
        lambda: torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None),
        (1, 3, 224, 224), "backbone.4,classifier.4"),
}


def row(name, ctor, shape, nodes, directory):
    """One model's line: export it, then time both sides."""
    print(f"{name}: exporting", file=sys.stderr, flush=True)
    model = ctor().eval()
    x = torch.randn(*shape)
    path, out = os.path.join(directory, name + ".pt2"), os.path.join(directory, name + "_features.pt2")
    start = time.process_time()
    torch.export.save(torch.export.export(model, (x,)), path)
    export_ms = (time.process_time() - start) * 1e3
    flags = f"--featx_mode=dict --featx_return_nodes={nodes}"
    names = torch.ops.featx.program_node_names(path, "")
    manifest = json.loads(torch.ops.featx.rewrite_program(path, out, flags))
    assert [e["name"] for e in manifest["eval"]] == nodes.split(","), manifest
    tv_names = 1e3 * median_seconds(lambda: get_graph_node_names(model))
    fx_names = 1e3 * median_seconds(lambda: torch.ops.featx.program_node_names(path, ""))
    tv_extract = 1e3 * median_seconds(lambda: create_feature_extractor(model, return_nodes=nodes.split(",")))
    fx_extract = 1e3 * median_seconds(lambda: torch.ops.featx.rewrite_program(path, out, flags))
    megabytes = os.path.getsize(path) / 2**20
    return (f"{name:30} {len(names):5} {megabytes:5.0f}  {export_ms:8.0f} ms   {tv_names:15.1f} ms "
            f"{fx_names:5.1f} ms {tv_names / fx_names:5.1f}x   {tv_extract:19.1f} ms {fx_extract:5.1f} ms "
            f"{tv_extract / fx_extract:5.1f}x")


def main():
    print(f"this machine, one run; torch {torch.__version__.split('+')[0]}, torchvision "
          f"{torchvision.__version__.split('+')[0]}; CPU time, median of 5 warm calls", flush=True)
    print(f"{'':30} {'nodes':>5} {'MB':>5}  {'export+save':>11}   {'names: torchvision':>18} {'featx':>8} {'':>6}"
          f"   {'extractor: torchvision':>22} {'featx':>8} {'':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (ctor, shape, nodes) in MODELS.items():
            print(row(name, ctor, shape, nodes, tmp), flush=True)
    print("featx's extractor time includes reading the archive and writing the new one (MB: its size).")


if __name__ == "__main__":
    main()
