"""The Python host path: torch.ops.load_library(libfeatx.so), then the featx
ops from eager Python and from TorchScript.

Run with Debian's /usr/bin/python3 (it has torch) by run_python_test.sh; the
first argument is the path of libfeatx.so.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import bazel_unittest

import torch



def _tapped_mlp(x: torch.Tensor) -> torch.Tensor:
    h = torch.ops.featx.tap(torch.relu(x), "hidden")
    return torch.ops.featx.tap(h * 2.0, "out")


tapped_mlp = None
LIBRARY = None  # the path of libfeatx.so, from the command line


def setUpModule():
    # TorchScript resolves torch.ops.featx only once the library is loaded.
    global tapped_mlp
    tapped_mlp = torch.jit.script(_tapped_mlp)


class SecondCopyTest(unittest.TestCase):
    def test_loading_a_second_copy_from_another_path_keeps_the_process(self):
        # Its own process: abseil used to end it ("Something is wrong with flag").
        with tempfile.TemporaryDirectory() as d:
            other = os.path.join(d, "libfeatx.so")
            shutil.copyfile(LIBRARY, other)
            script = (
                "import torch\n"
                f"torch.ops.load_library({LIBRARY!r})\n"
                f"torch.ops.load_library({other!r})\n"
                "print(torch.ops.featx.list_passes()[0], torch.ops.featx.tap(torch.ones(2), 't').sum().item())\n"
            )
            result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(result.stdout.split(), ["featx.inline_non_leaf", "2.0"])


class LoadLibraryTest(unittest.TestCase):
    def test_ops_are_registered_after_loading(self):
        self.assertIn("featx::tap", str(torch.ops.featx.tap.default._schema))
        self.assertEqual(str(torch.ops.featx.tap.default._schema), "featx::tap(Tensor(a) x, str tag) -> Tensor(a)")

    def test_loading_registers_the_passes_in_load_time_order(self):
        passes = torch.ops.featx.list_passes()
        self.assertEqual(passes[0], "featx.inline_non_leaf")
        self.assertEqual(passes[-1], "featx.merge_train_eval")
        for name in ("featx.specialize_training", "featx.name_nodes", "featx.choose_outputs",
                     "featx.protect_aliases", "featx.insert_taps", "featx.prune"):
            self.assertIn(name, passes)
        self.assertLess(passes.index("featx.choose_outputs"), passes.index("featx.insert_taps"))

    def test_tap_returns_its_input_without_a_capture(self):
        x = torch.randn(3)
        self.assertIs(torch.ops.featx.tap(x, "t"), x)

    def test_capture_from_python_sees_taps_in_a_scripted_function(self):
        x = torch.tensor([-1.0, 2.0])
        torch.ops.featx.capture_begin()
        y = tapped_mlp(x)
        captured = torch.ops.featx.capture_end()
        self.assertEqual(list(captured.keys()), ["hidden", "out"])
        self.assertTrue(torch.equal(captured["hidden"], torch.tensor([0.0, 2.0])))
        self.assertTrue(torch.equal(captured["out"], y))

    def test_capture_end_with_nothing_captured_is_empty(self):
        torch.ops.featx.capture_begin()
        self.assertEqual(dict(torch.ops.featx.capture_end()), {})

    def test_capture_end_without_begin_names_the_fix(self):
        with self.assertRaisesRegex(RuntimeError, r"no capture is open on this thread; call featx::capture_begin\(\)"):
            torch.ops.featx.capture_end()

    def test_threads_capture_only_their_own_taps(self):
        results = {}
        barrier = threading.Barrier(2)

        def request(tag_value):
            torch.ops.featx.capture_begin()
            barrier.wait()
            for _ in range(50):
                tapped_mlp(torch.full((2,), tag_value))
            results[tag_value] = torch.ops.featx.capture_end()

        threads = [threading.Thread(target=request, args=(v,)) for v in (1.0, 3.0)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for v, captured in results.items():
            self.assertTrue(torch.equal(captured["hidden"], torch.full((2,), v)))


if __name__ == "__main__":
    LIBRARY = os.path.abspath(sys.argv.pop(1))
    torch.ops.load_library(LIBRARY)
    bazel_unittest.main()
