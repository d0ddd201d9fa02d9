"""Requests per second, and a model's start-up, with and without featx
inside real servers, side by side in one run: TorchServe and Ray Serve on localhost, resnet18, featx in tap
mode on 10 nodes with a capture open around every request (the activations
are taken and dropped, so what is measured is featx, not their transport).

Rounds alternate plain / featx, ROUNDS of each, REQUESTS requests per round
from CLIENTS client threads; the ratio is of the median rates.
    bazel run //bench:serving_bench              (FEATX_LIBTORCH=pip)
Arguments: libfeatx.so, the checkout's python/ (featx), tests/servers.
"""
import concurrent.futures
import io
import os
import shutil
import statistics
import sys
import tempfile
import time

PLUGIN, PACKAGE, TEST_HOSTS = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path[:0] = [PACKAGE, TEST_HOSTS]
# The checkout's featx with the plugin Bazel built, here and in the servers' workers.
os.environ["FEATX_PLUGIN"] = PLUGIN
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE, os.environ.get("PYTHONPATH")) if p)

import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402

from servers import TorchServe, archive, free_port, http  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "5"))
REQUESTS = int(os.environ.get("REQUESTS", "100"))
CLIENTS = int(os.environ.get("CLIENTS", "2"))
NODES = ("conv1,layer1.0.conv1,layer1,layer2.0.conv1,layer2,layer3.0.conv1,layer3,layer4.0.conv1,layer4,fc")
FLAGS = "--featx_mode=tap --featx_return_nodes=" + NODES

HANDLER = """from ts.torch_handler.image_classifier import ImageClassifier
from featx.torchserve import FeatxHandlerMixin

class Handler(FeatxHandlerMixin, ImageClassifier):
    def featx_activations(self, activations):
        self.featx_taken = len(activations)   # taken, then dropped
"""


def rate(send, bodies):
    """Requests per second for one round."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for status, answer in pool.map(send, bodies):
            assert status == 200, answer[:300]
    return len(bodies) / (time.perf_counter() - start)


def compare(title, plain, featx):
    p, f = statistics.median(plain), statistics.median(featx)
    print(f"{title}: median of {ROUNDS} rounds of {REQUESTS} requests from {CLIENTS} clients")
    print(f"  plain model                       {p:7.1f} requests/s")
    print(f"  featx, tap on 10 nodes, capture   {f:7.1f} requests/s")
    print(f"  slowdown (plain / featx):         {p / f:.3f}x", flush=True)


def compare_startup(title, starts):
    p, f = statistics.median(starts["plain"]), statistics.median(starts["featx"])
    print(f"{title}: model start-up, median of {ROUNDS}")
    print(f"  plain model                       {p * 1e3:7.0f} ms")
    print(f"  featx (featx.load, in memory)     {f * 1e3:7.0f} ms")
    print(f"  ratio (featx / plain):            {f / p:.3f}x", flush=True)


def torchserve(work, model_pt):
    pictures = []
    g = torch.Generator().manual_seed(1)
    for _ in range(REQUESTS):
        buf = io.BytesIO()
        Image.fromarray(torch.randint(0, 256, (224, 224, 3), generator=g, dtype=torch.uint8).numpy()).save(buf, "PNG")
        pictures.append(buf.getvalue())
    os.makedirs(work, exist_ok=True)
    handler = os.path.join(work, "bench_handler.py")
    with open(handler, "w") as f:
        f.write(HANDLER)
    config = os.path.join(work, "featx.yaml")
    with open(config, "w") as f:
        f.write(f"featx:\n  flags: {FLAGS}\n  return_activations: true\n")
    archive(work, "plain", model_pt, handler)  # no featx section, no FEATX_FLAGS: the stock path
    archive(work, "featx", model_pt, handler, config_file=config)
    with TorchServe(work) as server:
        for name in ("plain", "featx"):
            status, answer = server.register(name + ".mar")
            assert status == 200, answer
        sender = {name: (lambda body, name=name: http("POST", server.url("inference", f"predictions/{name}"), body))
                  for name in ("plain", "featx")}
        rate(sender["plain"], pictures[:10]), rate(sender["featx"], pictures[:10])  # warm-up
        plain, featx = [], []
        for _ in range(ROUNDS):
            plain.append(rate(sender["plain"], pictures))
            featx.append(rate(sender["featx"], pictures))
        # Start-up: a synchronous registration, one worker loading the model.
        starts = {"plain": [], "featx": []}
        for name in starts:
            server.unregister(name)
        for _ in range(ROUNDS):
            for name in starts:
                start = time.perf_counter()
                status, answer = server.register(name + ".mar")
                starts[name].append(time.perf_counter() - start)
                assert status == 200, answer
                server.unregister(name)
    compare("TorchServe 0.12, resnet18 224x224 PNG, stock ImageClassifier", plain, featx)
    compare_startup("TorchServe 0.12, resnet18, registration with one worker", starts)


def ray_serve(work, model_pt):
    import ray
    from ray import serve

    @serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 1})
    class Model:
        def __init__(self, path, flags):
            import featx
            self.featx = featx if flags else None
            self.model = featx.load(path, flags) if flags else torch.jit.load(path)

        async def __call__(self, request):
            x = torch.load(io.BytesIO(await request.body()), weights_only=True)
            with torch.inference_mode():
                if self.featx is None:
                    y = self.model(x)
                else:
                    with self.featx.capture() as activations:
                        y = self.model(x)
                    assert len(activations) == 10
            return y.tolist()

    bodies = []
    for i in range(REQUESTS):
        buf = io.BytesIO()
        torch.save(torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(i)), buf)
        bodies.append(buf.getvalue())
    port = free_port()
    ray.init(num_cpus=4, include_dashboard=False, _temp_dir=tempfile.mkdtemp(prefix="r", dir="/tmp"),
             log_to_driver=False,
             runtime_env={"env_vars": {k: os.environ[k] for k in ("PYTHONPATH", "FEATX_PLUGIN")}})
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(Model.bind(model_pt, ""), name="plain", route_prefix="/plain")
        serve.run(Model.bind(model_pt, FLAGS), name="featx", route_prefix="/featx")
        sender = {name: (lambda body, name=name: http("POST", f"http://127.0.0.1:{port}/{name}", body))
                  for name in ("plain", "featx")}
        rate(sender["plain"], bodies[:10]), rate(sender["featx"], bodies[:10])
        plain, featx = [], []
        for _ in range(ROUNDS):
            plain.append(rate(sender["plain"], bodies))
            featx.append(rate(sender["featx"], bodies))
        # Start-up: serve.run of a new application until its replica is up.
        starts = {"plain": [], "featx": []}
        for i in range(ROUNDS):
            for name, flags in (("plain", ""), ("featx", FLAGS)):
                start = time.perf_counter()
                serve.run(Model.bind(model_pt, flags), name=f"start_{name}_{i}", route_prefix=f"/start_{name}_{i}")
                starts[name].append(time.perf_counter() - start)
                serve.delete(f"start_{name}_{i}")
    finally:
        serve.shutdown()
        ray.shutdown()
    compare(f"Ray Serve {ray.__version__}, resnet18 1x3x224x224 tensor, 1 replica each", plain, featx)
    compare_startup(f"Ray Serve {ray.__version__}, resnet18, serve.run of one replica", starts)


def main():
    work = tempfile.mkdtemp(prefix="featx-serving-bench-", dir="/tmp")
    try:
        torch.manual_seed(0)
        model_pt = os.path.join(work, "resnet18.pt")
        torch.jit.script(torchvision.models.resnet18().eval()).save(model_pt)
        print(f"torch {torch.__version__}, {os.cpu_count()} CPUs", flush=True)
        if os.environ.get("HOSTS", "torchserve,ray") != "ray":
            torchserve(os.path.join(work, "ts"), model_pt)
        if os.environ.get("HOSTS", "torchserve,ray") != "torchserve":
            ray_serve(work, model_pt)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
