"""featx inside a real TorchServe on localhost, enabled by configuration only.

One server, five models archived as users archive them:
  plain      resnet18, TorchServe's stock image_classifier handler
  featx      the same model file, the documented three-line handler
             (featx.torchserve's FeatxHandlerMixin + ImageClassifier), featx
             from the worker's environment (FEATX_FLAGS): tap mode, spool files
  answers    the same, featx from model-config.yaml with return_activations:
             each answer carries its request's activations
  branchy    a model whose train and eval graphs differ, featx from its
             model-config.yaml: the warning must reach the model log
  badflags   featx from model-config.yaml with a misspelt flag: its load
             fails with the flag named in the model log, the others serve
and a second server whose FEATX_FLAGS is misspelt: the featx model fails to
load, naming the flag, and the plain model serves.

Reference activations come from torchvision's create_feature_extractor on the
same resnet18 and the same preprocessed images, in this process.

featx is the package installed in this Python's environment, as users
install it (tools/package_tests.sh), or the checkout's with --featx_plugin
(featx_under_test.py). Arguments: train_eval_branch.pt.
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
import featx_under_test
from servers import TorchServe, archive, listening, wait_until

BRANCHY = None
NODES = "layer1.0.conv1,layer4,fc:logits"
REQUESTS = 100
HANDLER = """from ts.torch_handler.image_classifier import ImageClassifier
from featx.torchserve import FeatxHandlerMixin

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


def reference(model, pictures):
    """torchvision's activations for each picture, preprocessed as the stock
    ImageClassifier does."""
    extractor = create_feature_extractor(model, return_nodes={"layer1.0.conv1": "layer1.0.conv1", "layer4": "layer4",
                                                              "fc": "logits"})
    with torch.no_grad():
        return [extractor(ImageClassifier.image_processing(Image.open(io.BytesIO(p))).unsqueeze(0)) for p in pictures]


class Served:
    """A work directory with resnet18 and the three-line handler, archived
    into TorchServe's model store as needed, and the server."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="featx-torchserve-")
        torch.manual_seed(0)
        self.eager = torchvision.models.resnet18().eval()
        self.model_pt = os.path.join(self.dir, "resnet18.pt")
        torch.jit.script(self.eager).save(self.model_pt)
        self.handler = os.path.join(self.dir, "featx_handler.py")
        with open(self.handler, "w") as f:
            f.write(HANDLER)
        self.server = None

    def archive(self, name, model_pt=None, handler=None, featx_yaml=None):
        config = None
        if featx_yaml is not None:
            config = os.path.join(self.dir, name + ".yaml")
            with open(config, "w") as f:
                f.write(f"featx:\n{featx_yaml}")
        archive(self.dir, name, model_pt or self.model_pt, handler or self.handler, config_file=config)

    def start(self, featx_flags):
        self.server = TorchServe(self.dir, env={"FEATX_FLAGS": featx_flags}).start()
        return self.server

    def stop(self):
        ports = list(self.server.ports.values())
        left = self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not left, f"TorchServe left processes behind: {left}"
        assert not any(listening(p) for p in ports), f"TorchServe left a port listening: {ports}"


class TorchServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.served = Served()
        served = cls.served
        served.archive("plain", handler="image_classifier")
        served.archive("featx")
        # Small nodes: an answer over TorchServe's max_response_size (6.5 MB
        # by default; layer1.0.conv1 alone is 16 MB of JSON) kills the worker.
        served.archive("answers", featx_yaml="  flags: --featx_mode=tap --featx_return_nodes=layer4,fc:logits\n"
                                             "  return_activations: true\n")
        served.archive("branchy", model_pt=BRANCHY, featx_yaml="  flags: --featx_mode=tap --featx_return_nodes=head\n")
        served.archive("badflags", featx_yaml="  flags: --featx_mode=tap --featx_return_node=fc\n")
        cls.spool = os.path.join(served.dir, "spool")
        cls.server = served.start(f"--featx_mode=tap --featx_return_nodes={NODES} --featx_spool_dir={cls.spool} "
                                  f"--featx_spool_max_files={2 * REQUESTS}")
        cls.registered = {name: cls.server.register(name + ".mar") for name in ("plain", "featx", "answers", "branchy")}
        cls.bad = cls.server.register("badflags.mar")

    @classmethod
    def tearDownClass(cls):
        cls.served.stop()

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

        want = reference(self.served.eager, pictures)
        for i, name in enumerate(files):
            got = torch.load(os.path.join(self.spool, name), weights_only=True)
            self.assertEqual(list(got), ["layer1.0.conv1", "layer4", "logits"])
            for key, value in want[i % len(pictures)].items():
                torch.testing.assert_close(got[key], value, rtol=1e-4, atol=1e-4, msg=f"request {i}, {key}")

    def test_return_activations_adds_each_requests_activations_to_its_answer(self):
        self.assertRegistered("answers")
        pictures = images(3)
        want = reference(self.served.eager, pictures)
        for picture, values in zip(pictures, want):
            answer = self.server.predict("answers", picture)
            self.assertEqual(sorted(answer), ["featx", "output"])
            self.assertEqual(answer["output"], self.server.predict("plain", picture))
            self.assertEqual(list(answer["featx"]), ["layer4", "logits"])
            for name in ("layer4", "logits"):
                value = values[name]
                torch.testing.assert_close(torch.tensor(answer["featx"][name]), value[0], rtol=1e-4, atol=1e-4,
                                           msg=name)

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


class MisspeltFeatxFlagsTest(unittest.TestCase):
    """FEATX_FLAGS in the server's environment, misspelt: every featx model's
    load fails naming the flag; models without featx serve."""

    @classmethod
    def setUpClass(cls):
        cls.served = Served()
        cls.served.archive("plain", handler="image_classifier")
        cls.served.archive("featx")
        cls.server = cls.served.start("--featx_mode=tap --featx_return_node=fc")
        cls.featx = cls.server.register("featx.mar")
        cls.plain = cls.server.register("plain.mar")

    @classmethod
    def tearDownClass(cls):
        cls.served.stop()

    def test_the_featx_model_fails_to_load_naming_the_flag_and_the_plain_one_serves(self):
        self.assertEqual(self.featx[0], 500, self.featx[1])
        # featx.load reads FEATX_FLAGS too, and says so; the worker's traceback
        # ends with featx's ValueError.
        self.assertIn("ValueError: featx::load: FEATX_FLAGS: unknown featx flag "
                      "'--featx_return_node'; did you mean '--featx_return_nodes'?", self.server.model_log())
        self.assertEqual(self.plain[0], 200, self.plain[1])
        self.assertEqual(len(self.server.predict("plain", images(1)[0])), 5)


if __name__ == "__main__":
    featx_under_test.use(sys.argv)
    BRANCHY = os.path.abspath(sys.argv.pop(1))
    bazel_unittest.main()
