"""test_model(): one scripted model and torchvision's reference answers for it.

Generated at build time by make_models.py with the Python whose torch matches
the libtorch featx builds against (TORCH_PYTHON: Debian's /usr/bin/python3 for
Debian's 1.13, .venv/bin/python for pip's), never committed. The filegroup `name` holds
  name.pt, name.input.pt, name.names.json, name.values.pt, name.raw_values.pt
under tests/models/ in the runfiles of whatever depends on it.
"""

load("@libtorch//:defs.bzl", "TORCH_PYTHON")

_SUFFIXES = [".pt", ".input.pt", ".names.json", ".values.pt", ".raw_values.pt"]

def test_model(name):
    outs = [name + s for s in _SUFFIXES]
    native.genrule(
        name = name + "_gen",
        srcs = ["handwritten.py"],
        outs = outs,
        tools = ["make_models.py"],
        # HOME and the bytecode switch keep torch and Python from writing
        # outside the sandbox; one thread keeps two concurrent genrules from
        # fighting over 2 cores.
        cmd = ("HOME=$$TMPDIR PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 " +
               "{python} $(location make_models.py) --model {name} --out_dir $(RULEDIR)").format(
            name = name,
            python = TORCH_PYTHON,
        ),
        message = "Scripting test model " + name,
    )
    native.filegroup(
        name = name,
        srcs = outs,
    )

def model_without_source(name):
    """name_nosource.pt: model `name` with its debug files removed."""
    native.genrule(
        name = name + "_nosource",
        srcs = [name + ".pt"],
        outs = [name + "_nosource.pt"],
        tools = ["strip_source.py"],
        cmd = "PYTHONDONTWRITEBYTECODE=1 %s $(location strip_source.py) $< $@" % TORCH_PYTHON,
        message = "Stripping the source of test model " + name,
    )
