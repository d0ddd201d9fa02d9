"""featx inside a real TorchServe on localhost, enabled by configuration only.

One server, four models archived as users archive them:
  plain      resnet18, TorchServe's stock image_classifier handler
  featx      the same model file, the documented three-line handler
             (FeatxHandlerMixin + ImageClassifier), featx from the worker's
             environment (FEATX_FLAGS, FEATX_PLUGIN): tap mode, spool files
  branchy    a model whose train and eval graphs differ, featx from its
             model-config.yaml: the warning must reach the model log
  badflags   featx from model-config.yaml with a misspelt flag: its load
             fails with the flag named in the model log, the others serve

Reference activations come from torchvision's create_feature_extractor on the
same resnet18 and the same preprocessed images, in this process.

Arguments: libfeatx.so, the tools/hosts directory, train_eval_branch.pt.
"""
import io
import os
import shutil
import sys
import tempfile
import unittest

import torch
import torchvision
from PIL import Image
from torchvision.models.feature_extraction import create_feature_extractor
from ts.torch_handler.image_classifier import ImageClassifier

import bazel_unittest
from servers import TorchServe, archive, listening, wait_until

PLUGIN = HOSTS = BRANCHY = None
NODES = "layer1.0.conv1,layer4,fc:logits"
REQUESTS = 100
HANDLER = """from ts.torch_handler.image_classifier import ImageClassifier
from featx_torchserve import FeatxHandlerMixin

class Handler(FeatxHandlerMixin, ImageClassifier):
    pass
"""


def images(n):
    """n distinct PNGs of an odd size, so the handler resizes and crops."""
    g = torch.Generator().manual_seed(7)
    out = []
    for _ in range(n):
        pixels = torch.randint(0, 256, (200, 240, 3), generator=g, dtype=torch.uint8).numpy()
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


class TorchServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="featx-torchserve-")
        w = cls.tmp
        torch.manual_seed(0)
        cls.eager = torchvision.models.resnet18().eval()
        model_pt = os.path.join(w, "resnet18.pt")
        torch.jit.script(cls.eager).save(model_pt)
        handler = os.path.join(w, "featx_handler.py")
        with open(handler, "w") as f:
            f.write(HANDLER)
        extras = [os.path.join(HOSTS, "featx_torchserve.py"), os.path.join(HOSTS, "featx_serving.py")]

        def config(name, flags):
            path = os.path.join(w, name + ".yaml")
            with open(path, "w") as f:
                f.write(f"featx:\n  plugin: {PLUGIN}\n  flags: {flags}\n")
            return path

        archive(w, "plain", model_pt, "image_classifier")
        archive(w, "featx", model_pt, handler, extras)
        archive(w, "branchy", BRANCHY, handler, extras,
                config("branchy", "--featx_mode=tap --featx_return_nodes=head"))
        archive(w, "badflags", model_pt, handler, extras,
                config("badflags", "--featx_mode=tap --featx_return_node=fc"))
        cls.spool = os.path.join(w, "spool")
        cls.server = TorchServe(w, env={
            "FEATX_PLUGIN": PLUGIN,
            "FEATX_FLAGS": f"--featx_mode=tap --featx_return_nodes={NODES} --featx_spool_dir={cls.spool} "
                           f"--featx_spool_max_files={2 * REQUESTS}",
        })
        cls.server.start()
        cls.registered = {name: cls.server.register(name + ".mar") for name in ("plain", "featx", "branchy")}
        cls.bad = cls.server.register("badflags.mar")

    @classmethod
    def tearDownClass(cls):
        ports = list(cls.server.ports.values())
        left = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert not left, f"TorchServe left processes behind: {left}"
        assert not any(listening(p) for p in ports), f"TorchServe left a port listening: {ports}"

    def assertRegistered(self, name):
        status, answer = self.registered[name]
        self.assertEqual(status, 200, f"{name}: {answer}\n{self.server.model_log()[-4000:]}")

    def test_answers_equal_the_plain_models_and_activations_equal_torchvisions(self):
        self.assertRegistered("plain")
        self.assertRegistered("featx")
        pictures = images(10)
        for i in range(REQUESTS):
            picture = pictures[i % len(pictures)]
            self.assertEqual(self.server.predict("featx", picture), self.server.predict("plain", picture), i)

        # Spool files land from a writer thread: one per request, in order.
        wait_until(lambda: len(os.listdir(self.spool)) >= REQUESTS, 60, f"{REQUESTS} spool files")
        files = sorted(os.listdir(self.spool))
        self.assertEqual(len(files), REQUESTS, files[:3])

        reference = create_feature_extractor(self.eager, return_nodes={"layer1.0.conv1": "layer1.0.conv1",
                                                                        "layer4": "layer4", "fc": "logits"})
        with torch.no_grad():
            want = [reference(ImageClassifier.image_processing(Image.open(io.BytesIO(p))).unsqueeze(0))
                    for p in pictures]
        for i, name in enumerate(files):
            got = torch.load(os.path.join(self.spool, name), weights_only=True)
            self.assertEqual(list(got), ["layer1.0.conv1", "layer4", "logits"])
            for key, value in want[i % len(pictures)].items():
                torch.testing.assert_close(got[key], value, rtol=1e-4, atol=1e-4, msg=f"request {i}, {key}")

    def test_train_eval_difference_is_a_warning_in_the_model_log(self):
        self.assertRegistered("branchy")
        log = self.server.model_log()
        self.assertRegex(log, r"featx: The nodes obtained by tracing the model in train mode are different to those "
                              r"obtained in eval mode\. When choosing nodes for feature extraction, you may need to "
                              r"specify output nodes for train and eval mode separately\. First difference at node 2: "
                              r"train has 'mul', eval has 'sigmoid'\.\n")

    def test_a_misspelt_flag_fails_that_models_load_and_names_the_flag(self):
        status, answer = self.bad
        self.assertEqual(status, 500, answer)
        self.assertIn("unknown featx flag '--featx_return_node'; did you mean '--featx_return_nodes'",
                      self.server.model_log())
        # The server stays up and serves the others.
        self.assertRegistered("plain")
        self.assertEqual(len(self.server.predict("plain", images(1)[0])), 5)


if __name__ == "__main__":
    PLUGIN, HOSTS, BRANCHY = (os.path.abspath(a) for a in sys.argv[1:4])
    del sys.argv[1:4]
    bazel_unittest.main()
