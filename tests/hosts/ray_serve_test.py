"""featx inside Ray Serve: 2 replicas of a featx-rewritten model on a local
Ray cluster this test starts and stops, 100 concurrent HTTP requests, each
answered with its own activations (tap mode, one capture per request).

Reference activations: torchvision's create_feature_extractor on the same
resnet18, per request input, in this process.

Arguments: libfeatx.so, the tools/hosts directory.
"""
import concurrent.futures
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

import ray
import torch
import torchvision
from ray import serve
from torchvision.models.feature_extraction import create_feature_extractor

import bazel_unittest
from servers import free_port, http, listening, wait_until

PLUGIN = HOSTS = None
NODES = {"layer1.0.conv1": "layer1.0.conv1", "layer4": "layer4", "fc": "logits"}
REQUESTS = 100


# What a user writes: the model rewritten once per replica, a capture around
# each call (featx_serving.py; README: Hosts).
@serve.deployment(num_replicas=2, max_ongoing_requests=4, ray_actor_options={"num_cpus": 1})
class Extractor:
    def __init__(self, model_path, flags, plugin):
        import featx_serving
        featx_serving.load_plugin(plugin)
        self.featx = featx_serving
        self.model, _ = featx_serving.load_rewritten(model_path, flags)

    def __call__(self, body):
        x = torch.load(io.BytesIO(body), weights_only=True)
        with torch.inference_mode(), self.featx.capture() as activations:
            y = self.model(x)
        return {"replica": os.getpid(), "output": y.tolist(),
                "activations": {name: value.tolist() for name, value in activations.items()}}


@serve.deployment
class Ingress:
    """Reads the body, then hands it to a replica (a handle call)."""

    def __init__(self, extractor):
        self.extractor = extractor

    async def __call__(self, request):
        return await self.extractor.remote(await request.body())


def ray_processes(temp_dir):
    """Pids of processes whose command line names this test's Ray temp dir."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if temp_dir.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


class RayServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Short: Ray's Unix sockets live under it (108-byte limit).
        cls.tmp = tempfile.mkdtemp(prefix="featx-ray-", dir="/tmp")
        torch.manual_seed(0)
        cls.eager = torchvision.models.resnet18().eval()
        model_pt = os.path.join(cls.tmp, "resnet18.pt")
        torch.jit.script(cls.eager).save(model_pt)
        cls.port = free_port()
        ray.init(num_cpus=4, include_dashboard=False, _temp_dir=cls.tmp, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": HOSTS, "OMP_NUM_THREADS": "1"}})
        cls.gcs_port = int(ray.get_runtime_context().gcs_address.rsplit(":", 1)[1])
        serve.start(http_options={"host": "127.0.0.1", "port": cls.port})
        flags = "--featx_mode=tap --featx_return_nodes=" + ",".join(f"{k}:{v}" for k, v in NODES.items())
        serve.run(Ingress.bind(Extractor.bind(model_pt, flags, PLUGIN)), route_prefix="/extract")

    @classmethod
    def tearDownClass(cls):
        serve.shutdown()
        ray.shutdown()
        try:
            wait_until(lambda: not ray_processes(cls.tmp), 60, "Ray's processes to exit")
        finally:
            left = ray_processes(cls.tmp)
            shutil.rmtree(cls.tmp, ignore_errors=True)
        assert not left, f"Ray left processes behind: {left}"
        for port in (cls.port, cls.gcs_port):
            assert not listening(port), f"Ray left port {port} listening"

    def test_each_request_gets_its_own_activations_from_either_replica(self):
        inputs = [torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(i)) for i in range(REQUESTS)]

        def ask(x):
            buf = io.BytesIO()
            torch.save(x, buf)
            status, body = http("POST", f"http://127.0.0.1:{self.port}/extract", buf.getvalue())
            self.assertEqual(status, 200, body[:500])
            return json.loads(body)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, inputs))

        reference = create_feature_extractor(self.eager, return_nodes=NODES)
        with torch.no_grad():
            for i, (x, answer) in enumerate(zip(inputs, answers)):
                want = reference(x)
                torch.testing.assert_close(torch.tensor(answer["output"]), self.eager(x), rtol=1e-4, atol=1e-4,
                                           msg=f"request {i}: output")
                self.assertEqual(list(answer["activations"]), list(NODES.values()))
                for name, value in want.items():
                    torch.testing.assert_close(torch.tensor(answer["activations"][name]), value, rtol=1e-4,
                                               atol=1e-4, msg=f"request {i}: {name}")
        replicas = {a["replica"] for a in answers}
        self.assertEqual(len(replicas), 2, "both replicas should have served")


if __name__ == "__main__":
    PLUGIN, HOSTS = (os.path.abspath(a) for a in sys.argv[1:3])
    del sys.argv[1:3]
    bazel_unittest.main()
