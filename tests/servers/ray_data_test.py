"""Extraction at scale: `python -m featx.ray` runs a TorchScript model's
featx dict-mode extractor over a folder of images with Ray Data on a local
cluster and writes Parquet; the rows equal a single-process run's (--local)
and torchvision's create_feature_extractor on the same images, and the
cluster is gone after.

featx is the installed package or the checkout's with --featx_plugin
(featx_under_test.py).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import pyarrow.parquet as pq
import torch
import torchvision
from PIL import Image
from torchvision import transforms
from torchvision.models.feature_extraction import create_feature_extractor

import bazel_unittest
import featx_under_test

IMAGES = 40
NODES = {"flatten": "embedding", "layer4.1.conv1": "layer4.1.conv1"}


def rows(folder):
    """{id: {column: np.ndarray}} from every Parquet file in `folder`."""
    table = pq.read_table(folder)
    columns = table.to_pydict()
    out = {}
    for i, image_id in enumerate(columns["id"]):
        if image_id in out:
            raise AssertionError(f"id {image_id} appears twice")
        out[image_id] = {name: np.asarray(columns[name][i], dtype=np.float32) for name in NODES.values()}
    return out


class RayDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="featx-raydata-", dir="/tmp")
        cls.images = os.path.join(cls.tmp, "images")
        os.makedirs(cls.images)
        g = torch.Generator().manual_seed(3)
        for i in range(IMAGES):
            pixels = torch.randint(0, 256, (64, 64, 3), generator=g, dtype=torch.uint8).numpy()
            Image.fromarray(pixels).save(os.path.join(cls.images, f"img_{i:03d}.png"))
        torch.manual_seed(0)
        cls.eager = torchvision.models.resnet18().eval()
        cls.plain = os.path.join(cls.tmp, "resnet18.pt")
        torch.jit.script(cls.eager).save(cls.plain)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def extract(self, output, *flags, nodes=None):
        nodes = nodes or ",".join(f"{k}:{v}" for k, v in NODES.items())
        ray_tmp = tempfile.mkdtemp(prefix="r", dir=self.tmp)
        result = subprocess.run([sys.executable, "-m", "featx.ray", "--model=" + self.plain, "--return_nodes=" + nodes,
                                 "--images=" + self.images, "--output=" + output, *flags],
                                capture_output=True, text=True, timeout=600,
                                env=dict(os.environ, RAY_TMPDIR=ray_tmp, RAY_USAGE_STATS_ENABLED="0"))
        left = subprocess.run(["pgrep", "-f", ray_tmp], capture_output=True, text=True).stdout.split()
        self.assertEqual(left, [], "Ray processes left behind")
        return result

    def test_ray_rows_equal_the_single_process_rows_and_torchvisions(self):
        on_ray = os.path.join(self.tmp, "on_ray")
        result = self.extract(on_ray, "--concurrency=2", "--batch_size=8")
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn(f"featx: {IMAGES} rows (layer4.1.conv1, embedding)", result.stderr)  # graph order
        local = os.path.join(self.tmp, "local")
        result = self.extract(local, "--local", "--batch_size=5")
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])

        got, single = rows(on_ray), rows(local)
        self.assertEqual(sorted(got), [f"img_{i:03d}" for i in range(IMAGES)])
        self.assertEqual(sorted(single), sorted(got))

        reference = create_feature_extractor(self.eager, return_nodes=NODES)
        preprocess = transforms.Compose([transforms.ToTensor(),
                                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
        with torch.no_grad():
            for image_id in sorted(got):
                x = preprocess(Image.open(os.path.join(self.images, image_id + ".png")).convert("RGB"))
                want = reference(x[None])
                for name, value in want.items():
                    np.testing.assert_allclose(got[image_id][name], value.reshape(-1).numpy(), rtol=1e-4, atol=1e-4,
                                               err_msg=f"{image_id} {name} (Ray)")
                    np.testing.assert_allclose(single[image_id][name], got[image_id][name], rtol=1e-5, atol=1e-5,
                                               err_msg=f"{image_id} {name} (single process)")

    def test_an_unknown_node_is_refused_with_the_closest_names_before_ray_starts(self):
        result = self.extract(os.path.join(self.tmp, "refused"), nodes="layer4.1.conv")
        self.assertEqual(result.returncode, 2, result.stderr[-3000:])
        self.assertIn("layer4.1.conv1", result.stderr)
        self.assertIn("usage: python -m featx.ray", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "refused")))


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    bazel_unittest.main()
