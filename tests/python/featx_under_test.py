"""Which featx a Python test imports: the installed package (as users run
it; tools/package_tests.sh), or, under `bazel test`, the checkout's
python/featx with the plugin Bazel built, named by a --featx_plugin=PATH
argument. Either way the processes the test starts (TorchServe workers, Ray
workers) import the same featx.

    if __name__ == "__main__":
        featx_under_test.use(sys.argv)   # before `import featx`
"""
import os
import sys

CHECKOUT_PACKAGE = os.path.abspath("python")  # the runfiles' python/ (//python:featx)


def use(argv):
    """Pops --featx_plugin=PATH from argv; with it, the checkout's package and
    that plugin for this process and its children."""
    for arg in list(argv[1:]):
        if arg.startswith("--featx_plugin="):
            argv.remove(arg)
            os.environ["FEATX_PLUGIN"] = os.path.abspath(arg.split("=", 1)[1])
            path = os.environ.get("PYTHONPATH", "")
            os.environ["PYTHONPATH"] = os.pathsep.join([CHECKOUT_PACKAGE] + [p for p in path.split(os.pathsep) if p])
            sys.path.insert(0, CHECKOUT_PACKAGE)
