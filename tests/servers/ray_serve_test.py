"""featx inside Ray Serve: featx.ray.Extractor with 2 replicas of a
rewritten model on a local Ray cluster this test starts and stops, 100
concurrent HTTP requests, each answered with its own activations (tap mode,
one capture per request).

Reference activations: torchvision's create_feature_extractor on the same
resnet18, per request input, in this process. featx is the installed package
or the checkout's with --featx_plugin (featx_under_test.py).
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
import featx_under_test
from servers import free_port, http, listening, wait_until

NODES = {"layer1.0.conv1": "layer1.0.conv1", "layer4": "layer4", "fc": "logits"}
REQUESTS = 100


def app(model_path, flags):
    """What a user writes: featx.ray.Extractor behind an HTTP ingress."""
    import featx.ray

    @serve.deployment
    class Ingress:
        """Reads the body, hands the tensor to a replica, answers JSON."""

        def __init__(self, extractor):
            self.extractor = extractor

        async def __call__(self, request):
            x = torch.load(io.BytesIO(await request.body()), weights_only=True)
            answer = await self.extractor.remote(x)
            return {"output": answer["output"].tolist(),
                    "activations": {name: value.tolist() for name, value in answer["activations"].items()}}

    extractor = featx.ray.Extractor.options(num_replicas=2, max_ongoing_requests=4)
    return Ingress.bind(extractor.bind(model_path, flags))


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
        env = {"OMP_NUM_THREADS": "1"}
        for name in ("PYTHONPATH", "FEATX_PLUGIN"):  # the checkout's featx, under bazel test
            if name in os.environ:
                env[name] = os.environ[name]
        ray.init(num_cpus=4, include_dashboard=False, _temp_dir=cls.tmp, log_to_driver=False,
                 runtime_env={"env_vars": env})
        cls.gcs_port = int(ray.get_runtime_context().gcs_address.rsplit(":", 1)[1])
        serve.start(http_options={"host": "127.0.0.1", "port": cls.port})
        flags = "--featx_mode=tap --featx_return_nodes=" + ",".join(f"{k}:{v}" for k, v in NODES.items())
        serve.run(app(model_pt, flags), route_prefix="/extract")

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
        replicas = serve.status().applications["default"].deployments["Extractor"].replica_states
        self.assertEqual(replicas, {"RUNNING": 2})


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    bazel_unittest.main()
