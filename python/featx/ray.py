"""featx in Ray: a Serve deployment that answers with its activations, and
extraction at scale with Ray Data into Parquet.

Serving (Ray Serve), with featx installed where the replicas run:

    from ray import serve
    import featx.ray

    app = featx.ray.Extractor.options(num_replicas=2).bind(
        "resnet50.pt", "--featx_mode=tap --featx_return_nodes=layer4,fc:logits")
    handle = serve.run(app)
    answer = handle.remote(x).result()   # {"output": Tensor, "activations": {"layer4": ..., "logits": ...}}

Each replica loads and rewrites the model once, in memory (featx.load); each
call captures its own activations, whichever replica and thread serve it.
For your own deployment, do what Extractor does: featx.load in __init__,
featx.capture() around the call.

Extraction (Ray Data), one Parquet row per image, its id and each chosen
activation:

    featx.ray.extract_to_parquet("resnet50.pt", "photos/", "embeddings/",
                                 return_nodes={"flatten": "embedding"}, size=(224, 224))
    python -m featx.ray --model=resnet50.pt --return_nodes=flatten:embedding \\
        --images=photos/ --output=embeddings/ --size=224x224

The model is made a dict-mode extractor once, in the driver
(featx.create_feature_extractor), and runs on stock torch, so the Ray
workers need no featx. Ray spreads the images over as many workers as the
cluster has (a local one by default, or `address`). Rows: `id` (the file
name without its extension) and one column per output name, the activation
flattened to float32 (its shape in the output's _featx.json). Images are
read as RGB, resized to `size` if given, scaled to [0, 1] and normalized
with ImageNet's mean and std (normalize=False to skip), batch first.
local=True runs the same recipe in this process without Ray.
"""
import argparse
import io
import json
import logging
import os
import sys

import numpy as np
import torch
from ray import serve

import featx

logger = logging.getLogger("featx")
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@serve.deployment(ray_actor_options={"num_cpus": 1})
class Extractor:
    """A TorchScript model rewritten by featx (`flags`, tap mode by default)
    answering each call with {"output": its answer, "activations": {name:
    Tensor}}. featx's warnings go to the replica's `featx` logger."""

    def __init__(self, model_path, flags=""):
        with featx.warnings_to(logger):
            self.model = featx.load(model_path, flags).eval()
        if featx.manifest(self.model)["mode"] != "tap":
            raise ValueError("featx.ray.Extractor answers with the model's output and its activations: it needs "
                             f"--featx_mode=tap, not {featx.manifest(self.model)['mode']}")

    def __call__(self, x):
        with torch.inference_mode(), featx.capture() as activations:
            y = self.model(x)
        return {"output": y, "activations": activations}


def to_tensor(images, normalize):
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W], as torchvision's ToTensor (+ Normalize)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    if normalize:
        x = (x - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _image_id(path):
    return os.path.splitext(os.path.basename(path))[0]


class _Embed:
    """One per Ray worker: loads the dict-mode model once, then maps batches
    of {"image", "path"} to a table of {"id", output names...}."""

    def __init__(self, model_bytes, normalize):
        self.model = torch.jit.load(io.BytesIO(model_bytes)).eval()
        self.normalize = normalize

    def __call__(self, batch):
        import pyarrow as pa
        with torch.inference_mode():
            outputs = self.model(to_tensor(batch["image"], self.normalize))
        columns = {"id": pa.array([_image_id(p) for p in batch["path"]], pa.string())}
        for name, value in outputs.items():
            flat = value.reshape(value.shape[0], -1).to(torch.float32).numpy()
            columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])
        return pa.table(columns)


def _read_image(path, size):
    from PIL import Image
    image = Image.open(path).convert("RGB")
    return np.asarray(image.resize(size[::-1]) if size else image)


def _images(folder):
    if not os.path.isdir(folder):
        raise ValueError(f"images={folder}: not a folder")
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
    if not files:
        raise ValueError(f"images={folder}: no images ({', '.join(EXTENSIONS)})")
    return files


def extract_to_parquet(model, images, output, return_nodes, size=None, batch_size=16, concurrency=2,
                       address=None, normalize=True, local=False, tracer_kwargs=None):
    """Writes one Parquet row per image of the folder `images` into the folder
    `output` (new or empty): its id and the activations `return_nodes` name
    (torchvision's: a list of node names, or {node: output name}) of the
    TorchScript model at `model` (a path) or `model` itself. Returns the
    manifest also written to output/_featx.json: {"shapes": {name: shape per
    image}, "images": count, ...}."""
    files = _images(images)
    if os.path.exists(output) and os.listdir(output):
        raise ValueError(f"output={output}: not empty")
    scripted = torch.jit.load(model) if isinstance(model, str) else model
    extractor = featx.create_feature_extractor(scripted, return_nodes=return_nodes, tracer_kwargs=tracer_kwargs)
    extractor.eval()
    buffer = io.BytesIO()
    torch.jit.save(extractor, buffer)
    model_bytes = buffer.getvalue()
    # Checked here, before any worker starts: one image through the model.
    with torch.inference_mode():
        sample = extractor(to_tensor(_read_image(files[0], size)[None], normalize))
    manifest = {"shapes": {name: list(value.shape[1:]) for name, value in sample.items()}}

    if local:
        _run_local(model_bytes, files, output, size, batch_size, normalize)
    else:
        _run_ray(model_bytes, images, output, size, batch_size, concurrency, address, normalize)
    manifest.update(images=len(files), model=os.path.abspath(model) if isinstance(model, str) else None,
                    normalize=normalize)
    with open(os.path.join(output, "_featx.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest


def _run_local(model_bytes, files, output, size, batch_size, normalize):
    import pyarrow as pa
    import pyarrow.parquet as pq
    embed = _Embed(model_bytes, normalize)
    tables = []
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        tables.append(embed({"image": np.stack([_read_image(f, size) for f in chunk]), "path": chunk}))
    os.makedirs(output, exist_ok=True)
    pq.write_table(pa.concat_tables(tables), os.path.join(output, "local.parquet"))


def _run_ray(model_bytes, images, output, size, batch_size, concurrency, address, normalize):
    import ray
    # The model's workers hold a CPU each for their whole life; a local
    # cluster gets one more for reading images, or reading waits forever.
    cpus = None if address else max(os.cpu_count() or 1, concurrency + 1)
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.read_images(images, include_paths=True, mode="RGB", size=size,
                                  file_extensions=[e[1:] for e in EXTENSIONS])
        ds = ds.map_batches(_Embed, fn_constructor_kwargs={"model_bytes": model_bytes, "normalize": normalize},
                            batch_size=batch_size, batch_format="numpy",
                            compute=ray.data.ActorPoolStrategy(size=concurrency))
        ds.write_parquet(output)
    finally:
        if started:
            ray.shutdown()


def _return_nodes(text):
    """node[:name],... as featx's --featx_return_nodes."""
    nodes = {}
    for spec in text.split(","):
        node, _, name = spec.partition(":")
        if not node:
            raise argparse.ArgumentTypeError(f"{text!r}: an empty node name")
        nodes[node] = name or node
    return nodes


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m featx.ray",
                                     description="One Parquet row per image: its id and the chosen activations of "
                                                 "a TorchScript model, extracted with Ray Data.")
    parser.add_argument("--model", required=True, help="a TorchScript model file (torch.jit.save)")
    parser.add_argument("--return_nodes", required=True, type=_return_nodes,
                        help="node[:output name],... (featx names lists the nodes)")
    parser.add_argument("--images", required=True, help="a folder of images (" + ", ".join(EXTENSIONS) + ")")
    parser.add_argument("--output", required=True, help="a folder for the Parquet files (new or empty)")
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")), default=None,
                        help="resize every image to HxW first (e.g. 224x224); needed when sizes differ")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=2, help="Ray workers running the model")
    parser.add_argument("--address", default=None, help="a Ray cluster to join (default: start a local one)")
    parser.add_argument("--no_normalize", dest="normalize", action="store_false",
                        help="feed pixels scaled to [0, 1] without ImageNet's mean and std")
    parser.add_argument("--local", action="store_true", help="no Ray: the same rows from this process")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.model):
        parser.error(f"--model={args.model}: no such file")
    try:
        manifest = extract_to_parquet(args.model, args.images, args.output, args.return_nodes, size=args.size,
                                      batch_size=args.batch_size, concurrency=args.concurrency, address=args.address,
                                      normalize=args.normalize, local=args.local)
    except (ValueError, TypeError) as e:
        parser.error(str(e).splitlines()[0])
    print(f"featx: {manifest['images']} rows ({', '.join(manifest['shapes'])}) in {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
