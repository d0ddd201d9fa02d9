"""server_test(): a test that starts a real server on localhost.

Defined only against PyPI's torch (FEATX_LIBTORCH=pip): TorchServe 0.12 and
Ray 2.60 live in its .venv (tools/requirements-hosts.txt) and need torch 2.
Exclusive: each starts processes that want both cores, and TorchServe's
worker sockets (/tmp/.ts.sock.<port>) are shared by every TorchServe on the
machine.
"""

load("@libtorch//:defs.bzl", "LIBTORCH_KIND")
load("//tests/python:python_test.bzl", "python_test")

def server_test(name, src, args = [], data = [], size = "medium"):
    if LIBTORCH_KIND != "pip":
        return
    python_test(
        name = name,
        size = size,
        src = src,
        args = args,
        data = data,
        # tools/package_tests.sh runs them from the installed package.
        tags = ["exclusive", "manual"],
    )
