"""The three ways a host runs featx (docs/design.md, "Host integration"), each as a user would:

- dlopen: //tools:featx_host loads libfeatx.so and rewrites through the C
  entry points, flags on its command line or in FEATX_FLAGS;
- LD_PRELOAD: a Python process with no featx code runs a tap-mode model, and
  FEATX_FLAGS sends its activations to a spool directory and the log;
- Python: torch.ops.load_library, featx::rewrite_file, capture_begin/end.

Values are checked against torchvision's (tests/models/*.values.pt).

Arguments: featx_host, libfeatx.so, the featx command line, the models directory.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch

import bazel_unittest
from deep_models import save_deep_model, small_stack

HOST = PLUGIN = FEATX = MODELS = None
NODES = "x,layer1.0.bn1,fc:logits"


def path(name):
    return os.path.join(MODELS, name)


def run(args, env_extra=None, **kwargs):
    env = dict(os.environ)
    env.pop("FEATX_FLAGS", None)
    env.update(env_extra or {})
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env, **kwargs)


def host(*flags, env=None, model="resnet18"):
    return run([HOST, "--model=" + path(model + ".pt"), "--plugin=" + PLUGIN, "--input=" + path(model + ".input.pt"),
                *flags], env)


def captured(line):
    """{tag: sum} from one `request i: ...; captured a [..] sum=s; ...` line."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(?:captured |; )(\S+) \[[^\]]*\] sum=([^;\s]+)", line)}


class HostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.values = torch.load(path("resnet18.values.pt"))
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assertTorchvisionSums(self, line):
        got = captured(line)
        self.assertEqual(sorted(got), ["layer1.0.bn1", "logits", "x"], line)
        for tag, node in (("x", "x"), ("layer1.0.bn1", "layer1.0.bn1"), ("logits", "fc")):
            want = self.values[node].sum().item()
            self.assertAlmostEqual(got[tag], want, delta=1e-4 * max(1.0, abs(want)), msg=tag)

    def test_flags_on_the_host_command_line(self):
        result = host("--requests=3", "--featx_mode=tap", "--featx_return_nodes=" + NODES)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 3, result.stdout)
        self.assertTorchvisionSums(next(line for line in lines if line.startswith("request 0:")))

    def test_flags_in_featx_flags(self):
        result = host("--requests=2", env={"FEATX_FLAGS": "--featx_mode=tap --featx_return_nodes=" + NODES})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTorchvisionSums(next(line for line in result.stdout.splitlines() if line.startswith("request 0:")))

    def test_helpfull_documents_featx_flags(self):
        result = run([HOST, "--plugin=" + PLUGIN, "--helpfull"])
        for flag in ("featx_return_nodes", "featx_train_return_nodes", "featx_eval_return_nodes", "featx_mode",
                     "featx_leaf_modules", "featx_suppress_diff_warning", "featx_spool_dir", "featx_passes",
                     "featx_executor_hook"):
            self.assertIn(flag, result.stdout + result.stderr)

    def test_pipeline_that_featx_passes_lists_runs_by_name_in_the_host(self):
        listed = run([FEATX, "passes"])
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("featx.protect_aliases", listed.stdout)
        tap = re.search(r"^  tap +(--featx_passes=\S+)$", listed.stdout, re.M).group(1)
        self.assertIn("featx.insert_taps,featx.prune,featx.bracket_request,featx.merge_train_eval", tap)
        result = host("--requests=1", "--featx_mode=tap", "--featx_return_nodes=" + NODES, tap)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTorchvisionSums(result.stdout.splitlines()[-1])
        # The same list without featx.name_nodes cannot run: the host says
        # why and serves the model unchanged.
        broken = tap.replace("featx.name_nodes,", "")
        result = host("--requests=1", "--featx_mode=tap", "--featx_return_nodes=" + NODES, broken)
        self.assertEqual(result.returncode, 2)
        self.assertIn("featx.warn_graph_differences runs on named train and eval graphs", result.stderr)
        self.assertIn("run featx.name_nodes first", result.stderr)

    def test_train_eval_difference_arrives_through_the_hosts_handler(self):
        result = host("--requests=1", "--featx_return_nodes=head", model="train_eval_branch")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("[featx_host] warning: The nodes obtained by tracing the model in train mode are different",
                      result.stderr)

    def test_bad_flags_leave_the_model_unchanged(self):
        plain = host("--requests=1", "--featx=--featx_return_nodes=fc --featx_mode=tupel")
        self.assertEqual(plain.returncode, 2)
        self.assertIn("unknown mode 'tupel'; did you mean 'tuple'", plain.stderr)
        self.assertIn("serving the model unchanged", plain.stderr)
        with torch.no_grad():
            want = torch.jit.load(path("resnet18.pt"))(torch.load(path("resnet18.input.pt"))).sum().item()
        got = float(re.search(r"output \[1, 1000\] sum=(\S+);", plain.stdout).group(1))
        self.assertAlmostEqual(got, want, delta=1e-4 * max(1.0, abs(want)))
        self.assertIn("captured \n", plain.stdout + "\n")
        bad_env = host("--requests=1", env={"FEATX_FLAGS": "--featx_return_node=fc"})
        self.assertEqual(bad_env.returncode, 2)
        self.assertIn("FEATX_FLAGS: unknown featx flag '--featx_return_node'; did you mean '--featx_return_nodes'",
                      bad_env.stderr)

    def test_ld_preload_into_a_host_without_featx_code_spools_and_logs(self):
        rewritten = os.path.join(self.tmp.name, "resnet18_tap.pt")
        made = run([FEATX, "rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=" + NODES, "--mode=tap",
                    "--output=" + rewritten])
        self.assertEqual(made.returncode, 0, made.stderr)
        spool = os.path.join(self.tmp.name, "spool")
        plain_host = ("import torch\n"
                      f"m = torch.jit.load({rewritten!r})\n"
                      f"x = torch.load({path('resnet18.input.pt')!r})\n"
                      "with torch.no_grad():\n"
                      "    for _ in range(5):\n"
                      "        m(x)\n")
        result = run([sys.executable, "-c", plain_host], {
            "LD_PRELOAD": PLUGIN,
            "FEATX_FLAGS": f"--featx_spool_dir={spool} --featx_spool_max_files=3 --featx_log_activations",
        })
        self.assertEqual(result.returncode, 0, result.stderr)
        files = sorted(os.listdir(spool))
        self.assertEqual(len(files), 3, files)  # 5 requests, the 2 oldest removed
        for f in files:
            acts = torch.load(os.path.join(spool, f), weights_only=True)
            self.assertEqual(list(acts), ["x", "layer1.0.bn1", "logits"])
            torch.testing.assert_close(acts["layer1.0.bn1"], self.values["layer1.0.bn1"], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(acts["logits"], self.values["fc"], rtol=1e-4, atol=1e-5)
        self.assertIn("featx: request activations: x [1, 3, 64, 64] mean=", result.stderr)

    def test_executor_hook_taps_an_unrewritten_model_from_its_second_request(self):
        # The model file as deployed: no featx rewrite anywhere. Three
        # no-grad requests, then three with autograd on.
        spool = os.path.join(self.tmp.name, "hook_spool")
        plain_host = ("import sys, torch\n"
                      f"m = torch.jit.load({path('resnet18.pt')!r})\n"
                      "m.eval()\n"
                      f"x = torch.load({path('resnet18.input.pt')!r})\n"
                      "with torch.no_grad():\n"
                      "    for i in range(3):\n"
                      "        m(x)\n"
                      "        print('no_grad request', i, 'done', file=sys.stderr, flush=True)\n"
                      f"g = torch.jit.load({path('resnet18.pt')!r})\n"
                      "for i in range(3):\n"
                      "    g(x)\n")
        result = run([sys.executable, "-c", plain_host], {
            "LD_PRELOAD": PLUGIN,
            "FEATX_FLAGS": f"--featx_executor_hook --featx_return_nodes={NODES.replace('x,', '')} "
                           f"--featx_spool_dir={spool} --featx_log_activations",
        })
        self.assertEqual(result.returncode, 0, result.stderr)
        files = sorted(os.listdir(spool))
        # Requests 2 and 3 of the no-grad model; none of the model run with
        # autograd, which the executor never hands to custom passes.
        self.assertEqual(len(files), 2, files)
        self.assertLess(result.stderr.index("no_grad request 0 done"),
                        result.stderr.index("featx: request activations"))
        for f in files:
            got = torch.load(os.path.join(spool, f))
            self.assertEqual(list(got), ["layer1.0.bn1", "logits"])
            torch.testing.assert_close(got["layer1.0.bn1"], self.values["layer1.0.bn1"], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(got["logits"], self.values["fc"], rtol=1e-4, atol=1e-5)

    def test_python_host_rewrites_a_file_and_captures(self):
        out = os.path.join(self.tmp.name, "py_tap.pt")
        script = ("import torch, json\n"
                  f"torch.ops.load_library({PLUGIN!r})\n"
                  f"manifest = json.loads(torch.ops.featx.rewrite_file({path('resnet18.pt')!r}, {out!r}, "
                  f"'--featx_mode=tap --featx_return_nodes={NODES}'))\n"
                  "assert [e['name'] for e in manifest['eval']] == ['x', 'layer1.0.bn1', 'logits'], manifest\n"
                  f"m = torch.jit.load({out!r})\n"
                  f"x = torch.load({path('resnet18.input.pt')!r})\n"
                  "with torch.no_grad():\n"
                  "    torch.ops.featx.capture_begin()\n"
                  "    y = m(x)\n"
                  "    acts = torch.ops.featx.capture_end()\n"
                  f"torch.save({{'y': y, **acts}}, {os.path.join(self.tmp.name, 'py_acts.pt')!r})\n")
        result = run([sys.executable, "-c", script])
        self.assertEqual(result.returncode, 0, result.stderr)
        got = torch.load(os.path.join(self.tmp.name, "py_acts.pt"))
        with torch.no_grad():
            plain = torch.jit.load(path("resnet18.pt"))(torch.load(path("resnet18.input.pt")))
        torch.testing.assert_close(got.pop("y"), plain)
        torch.testing.assert_close(got["layer1.0.bn1"], self.values["layer1.0.bn1"], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(got["logits"], self.values["fc"], rtol=1e-4, atol=1e-5)

    # featx_host aborted (`terminate called`) when a request threw.
    def test_a_failing_request_is_an_error_answer_and_the_host_goes_on(self):
        wrong = os.path.join(self.tmp.name, "wrong_shape.pt")
        torch.save(torch.randn(1, 5), wrong)
        result = run([HOST, "--model=" + path("resnet18.pt"), "--plugin=" + PLUGIN, "--input=" + wrong,
                      "--requests=4", "--threads=2", "--featx_return_nodes=fc"])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("terminate called", result.stderr)
        for i in range(4):
            # torch's line that says what went wrong, not only its preamble.
            self.assertRegex(result.stderr, rf"featx_host: request {i} failed: the model raised \w+Error: .*conv")
        self.assertIn("served 4 requests on 2 threads in", result.stderr)
        self.assertIn("(4 failed)", result.stderr)

    def test_a_deeply_nested_model_loads_and_serves_on_a_small_stack(self):
        deep = os.path.join(self.tmp.name, "deep.pt")
        save_deep_model(deep, 300)
        result = run([HOST, "--model=" + deep, "--plugin=" + PLUGIN, "--input=" + path("resnet18.input.pt"),
                      "--requests=2", "--featx_return_nodes=" + ".".join(["inner"] * 300 + ["add"]) + ":deep"],
                     preexec_fn=small_stack)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(len([line for line in result.stdout.splitlines() if "captured deep [" in line]), 2)

    def test_a_second_copy_of_the_plugin_refuses_and_the_host_serves(self):
        # A host that loads libfeatx.so from two paths (here: preloaded, then
        # --plugin from another directory). The second copy registers no ops
        # (its flags live in its own abseil, as the first copy's do), and its
        # entry points refuse with a message.
        other = os.path.join(self.tmp.name, "second", "libfeatx.so")
        os.makedirs(os.path.dirname(other), exist_ok=True)
        shutil.copyfile(PLUGIN, other)
        result = run([HOST, "--model=" + path("resnet18.pt"), "--plugin=" + other,
                      "--input=" + path("resnet18.input.pt"), "--requests=2", "--featx_return_nodes=fc"],
                     env_extra={"LD_PRELOAD": os.path.abspath(PLUGIN)})
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("another copy of libfeatx.so, loaded earlier into this process", result.stderr)
        self.assertIn("serving the model unchanged", result.stderr)
        self.assertIn("served 2 requests", result.stderr)
        for crash in ("Something is wrong with flag", "terminate called", "Segmentation"):
            self.assertNotIn(crash, result.stderr)

    def test_an_input_or_model_that_is_wrong_or_not_there_is_named(self):
        state = os.path.join(self.tmp.name, "state_dict.pt")
        torch.save({"weight": torch.ones(2), "bias": torch.ones(2)}, state)
        text = os.path.join(self.tmp.name, "notes.txt")
        with open(text, "w") as f:
            f.write("not a tensor")
        missing = os.path.join(self.tmp.name, "missing.pt")
        model, x = path("resnet18.pt"), path("resnet18.input.pt")
        for given, said in (((model, state), f"--input: '{state}' holds a GenericDict (a state_dict?), not a tensor"),
                            ((model, text), f"--input: '{text}' is not a tensor saved with torch.save(x, path)"),
                            ((model, missing), f"--input: input file '{missing}' does not exist"),
                            ((state, x), f"--model: '{state}' is not a TorchScript archive"),
                            ((missing, x), f"--model: model file '{missing}' does not exist")):
            result = run([HOST, "--model=" + given[0], "--plugin=" + PLUGIN, "--input=" + given[1]])
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn("featx_host: " + said, result.stderr)
            self.assertNotIn("INTERNAL ASSERT", result.stderr)

    # Triton's PyTorch backend: a model rewritten offline, tuple outputs read
    # by position, InferenceMode, custom ops by LD_PRELOAD, no featx calls.
    def rewritten(self, mode):
        out = os.path.join(self.tmp.name, f"resnet18_{mode}_offline.pt")
        made = run([FEATX, "rewrite", "--model=" + path("resnet18.pt"), "--return_nodes=" + NODES,
                    "--mode=" + mode, "--output=" + out])
        self.assertEqual(made.returncode, 0, made.stderr)
        return out

    def test_triton_style_host_serves_a_tuple_model_without_featx(self):
        result = run([HOST, "--model=" + self.rewritten("tuple"), "--input=" + path("resnet18.input.pt"),
                      "--rewrite=false", "--capture=false", "--requests=1"])
        self.assertEqual(result.returncode, 0, result.stderr)
        sums = dict(re.findall(r"(OUTPUT__\d+) \[[^\]]*\] sum=(\S+?)[;)]", result.stdout))
        self.assertEqual(sorted(sums), ["OUTPUT__0", "OUTPUT__1", "OUTPUT__2", "OUTPUT__3"], result.stdout)
        for name, node in (("OUTPUT__0", "fc"), ("OUTPUT__1", "x"), ("OUTPUT__2", "layer1.0.bn1"),
                           ("OUTPUT__3", "fc")):
            want = self.values[node].sum().item()
            self.assertAlmostEqual(float(sums[name]), want, delta=1e-4 * max(1.0, abs(want)), msg=name)

    def test_triton_style_host_takes_the_tap_op_by_ld_preload(self):
        model = self.rewritten("tap")
        args = [HOST, "--model=" + model, "--input=" + path("resnet18.input.pt"), "--rewrite=false", "--requests=1"]
        result = run(args, env_extra={"LD_PRELOAD": os.path.abspath(PLUGIN)})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTorchvisionSums(result.stdout.splitlines()[0])
        # Without it, the host says how to give it featx.
        result = run(args)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("give --plugin=path/to/libfeatx.so, or LD_PRELOAD it", result.stderr)

    # rewrite_file saved the model and then failed on the spool directory.
    def test_python_rewrite_file_with_a_bad_spool_writes_nothing(self):
        out = os.path.join(self.tmp.name, "never.pt")
        script = ("import torch\n"
                  f"torch.ops.load_library({PLUGIN!r})\n"
                  "try:\n"
                  f"    torch.ops.featx.rewrite_file({path('resnet18.pt')!r}, {out!r}, "
                  "'--featx_mode=tap --featx_return_nodes=fc --featx_spool_dir=/proc/featx-spool/acts')\n"
                  "except RuntimeError as e:\n"
                  "    print('refused:', str(e).splitlines()[0])\n")
        result = run([sys.executable, "-c", script])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("refused: featx::rewrite_file: --featx_spool_dir=/proc/featx-spool/acts: cannot create",
                      result.stdout)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    HOST, PLUGIN, FEATX, MODELS = (os.path.abspath(sys.argv.pop(1)) for _ in range(4))
    bazel_unittest.main()
