"""python_test(): a Python test run as users run featx, by the right Python.

The Python is TORCH_PYTHON from @libtorch (third_party/libtorch), whose torch
matches the libtorch featx was built against: Debian's /usr/bin/python3 for
1.13, .venv/bin/python for FEATX_LIBTORCH=pip. The test's file is its first
argument; `args` follow.
"""

load("@libtorch//:defs.bzl", "TORCH_PYTHON")

def python_test(name, src, args = [], data = [], size = "medium", **kwargs):
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tests/python:run_python_test.sh"],
        args = ["$(location %s)" % src] + args,
        data = [
            src,
            "//tests/python:bazel_unittest.py",
            "//tests/python:deep_models.py",
            "//tests/python:featx_under_test.py",
        ] + data,
        env = {"FEATX_TEST_PYTHON": TORCH_PYTHON},
        **kwargs
    )
