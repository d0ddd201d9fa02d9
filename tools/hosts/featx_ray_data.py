"""Extraction at scale: a featx dict-mode model over a folder of images with Ray
Data, one Parquet row per image: its id and each chosen activation.

The model is rewritten once by featx (dict mode runs on stock torch, so the
Ray workers need no plugin); Ray spreads the images over as many workers as
the cluster has (a local one by default, or --address of yours):

    bazel-bin/tools/featx rewrite --model=resnet50.pt --mode=dict \\
        --return_nodes=flatten:embedding --output=resnet50_emb.pt
    .venv/bin/python tools/hosts/featx_ray_data.py --model=resnet50_emb.pt \\
        --images=photos/ --output=embeddings/ --concurrency=4

Rows: `id` (the file name without its extension) and one column per output
name: the activation flattened to float32 (shape in --output's _featx.json).
Images are read as RGB, resized to --size if given, scaled to [0, 1] and
normalized with ImageNet's mean and std (--no_normalize to skip), batch first.
--local runs the same recipe in this process without Ray, for comparison.
"""
import argparse
import io
import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def to_tensor(images, normalize):
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W], as torchvision's ToTensor (+ Normalize)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    if normalize:
        x = (x - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def image_id(path):
    return os.path.splitext(os.path.basename(path))[0]


class Embed:
    """One per Ray worker: loads the dict-mode model once, then maps batches
    of {"image", "path"} to a table of {"id", output names...}."""

    def __init__(self, model_bytes, normalize):
        self.model = torch.jit.load(io.BytesIO(model_bytes)).eval()
        self.normalize = normalize

    def __call__(self, batch):
        outputs = activations(self.model, to_tensor(batch["image"], self.normalize))
        columns = {"id": pa.array([image_id(p) for p in batch["path"]], pa.string())}
        for name, value in outputs.items():
            flat = value.reshape(value.shape[0], -1).to(torch.float32).numpy()
            columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])
        return pa.table(columns)


def activations(model, x):
    with torch.inference_mode():
        outputs = model(x)
    if not isinstance(outputs, dict):
        raise TypeError(f"the model returns {type(outputs).__name__}, not a dict of activations: rewrite it with "
                        "`featx rewrite --mode=dict --return_nodes=...`")
    return outputs


def shapes(model_bytes, sample, normalize):
    """Each output's shape per image, from one image."""
    outputs = activations(torch.jit.load(io.BytesIO(model_bytes)), to_tensor(sample[None], normalize))
    return {name: list(value.shape[1:]) for name, value in outputs.items()}


def read_image(path, size):
    from PIL import Image
    image = Image.open(path).convert("RGB")
    return np.asarray(image.resize(size[::-1]) if size else image)


def run_local(args, model_bytes, files):
    embed = Embed(model_bytes, args.normalize)
    tables = []
    for start in range(0, len(files), args.batch_size):
        chunk = files[start:start + args.batch_size]
        tables.append(embed({"image": np.stack([read_image(f, args.size) for f in chunk]), "path": chunk}))
    os.makedirs(args.output, exist_ok=True)
    pq.write_table(pa.concat_tables(tables), os.path.join(args.output, "local.parquet"))


def run_ray(args, model_bytes):
    import ray
    # The model's workers hold a CPU each for their whole life; a local
    # cluster gets one more for reading images, or reading waits forever.
    cpus = None if args.address else max(os.cpu_count() or 1, args.concurrency + 1)
    ray.init(address=args.address, num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.read_images(args.images, include_paths=True, mode="RGB", size=args.size,
                                  file_extensions=[e[1:] for e in EXTENSIONS])
        ds = ds.map_batches(Embed, fn_constructor_kwargs={"model_bytes": model_bytes, "normalize": args.normalize},
                            batch_size=args.batch_size, batch_format="numpy",
                            compute=ray.data.ActorPoolStrategy(size=args.concurrency))
        ds.write_parquet(args.output)
    finally:
        ray.shutdown()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a featx dict-mode model (featx rewrite --mode=dict)")
    parser.add_argument("--images", required=True, help="a folder of images (" + ", ".join(EXTENSIONS) + ")")
    parser.add_argument("--output", required=True, help="a folder for the Parquet files")
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")), default=None,
                        help="resize every image to HxW first (e.g. 224x224); needed when sizes differ")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=2, help="Ray workers running the model")
    parser.add_argument("--address", default=None, help="a Ray cluster to join (default: start a local one)")
    parser.add_argument("--no_normalize", dest="normalize", action="store_false",
                        help="feed pixels scaled to [0, 1] without ImageNet's mean and std")
    parser.add_argument("--local", action="store_true", help="no Ray: the same rows from this process")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.images):
        parser.error(f"--images={args.images}: not a folder")
    files = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.lower().endswith(EXTENSIONS))
    if not files:
        parser.error(f"--images={args.images}: no images ({', '.join(EXTENSIONS)})")
    with open(args.model, "rb") as f:
        model_bytes = f.read()
    # Checked here, before any worker starts: the model answers a dict.
    try:
        manifest = {"shapes": shapes(model_bytes, read_image(files[0], args.size), args.normalize)}
    except Exception as e:  # noqa: BLE001: whatever the model raises, said in one line
        parser.error(f"--model={args.model}: {e}".splitlines()[0])
    if os.path.exists(args.output) and os.listdir(args.output):
        parser.error(f"--output={args.output}: not empty")

    run_local(args, model_bytes, files) if args.local else run_ray(args, model_bytes)
    manifest.update(images=len(files), model=os.path.abspath(args.model), normalize=args.normalize)
    with open(os.path.join(args.output, "_featx.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"featx: {len(files)} rows ({', '.join(manifest['shapes'])}) in {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
