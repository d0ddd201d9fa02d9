"""test_model(): one scripted model and torchvision's reference answers for it.

Generated at build time by make_models.py with the Python whose torch matches
the libtorch featx builds against (TORCH_PYTHON: Debian's /usr/bin/python3 for
Debian's 1.13, .venv/bin/python for pip's), never committed. The filegroup
`name` holds
  name.pt, name.input.pt, name.names.json, name.values.pt, name.raw_values.pt
under tests/models/ in the runfiles of whatever depends on it.

cross_version_model() makes the same files under tests/models/cross/ with the
other torch version's Python (OTHER_TORCH_PYTHON), when the machine has one:
models saved by 1.13 for a featx built against 2.x, and the other way round.
"""

load("@libtorch//:defs.bzl", "OTHER_TORCH_PYTHON", "OTHER_TORCH_PYTHON_VERSIONS", "TORCH_PYTHON", "TORCH_VERSION")

_SUFFIXES = [".pt", ".input.pt", ".names.json", ".values.pt", ".raw_values.pt"]

# "torch torchvision" versions of the Python that makes cross/, or "" when
# this machine has no second torch (then there is no cross/).
CROSS_VERSIONS = OTHER_TORCH_PYTHON_VERSIONS

# Where the libtorch has no Python of its own version here (a bare libtorch
# directory), the plugin still builds; the test models say what is missing.
_NO_PYTHON = ("echo 'featx: no Python with torch {version} and torchvision makes the test models; set " +
              "FEATX_PYTHON to one (docs/libtorch.md)' >&2; exit 1").format(version = TORCH_VERSION)

def _make_model(name, python, subdir, message):
    prefix = subdir + "/" if subdir else ""
    outs = [prefix + name + s for s in _SUFFIXES]
    if not python:
        native.genrule(name = prefix.replace("/", "_") + name + "_gen", outs = outs, cmd = _NO_PYTHON)
        return outs
    native.genrule(
        name = prefix.replace("/", "_") + name + "_gen",
        srcs = ["handwritten.py"],
        outs = outs,
        tools = ["make_models.py"],
        # HOME and the bytecode switch keep torch and Python from writing
        # outside the sandbox; one thread keeps two concurrent genrules from
        # fighting over 2 cores, and makes the reference values the ones the
        # tests compute (they run with one intra-op thread too, .bazelrc).
        cmd = ("HOME=$$TMPDIR PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 " +
               "{python} $(location make_models.py) --model {name} --out_dir $(RULEDIR)/{subdir}").format(
            name = name,
            python = python,
            subdir = subdir,
        ),
        message = message + name,
    )
    return outs

def test_model(name):
    native.filegroup(
        name = name,
        srcs = _make_model(name, TORCH_PYTHON, "", "Scripting test model "),
    )

def cross_version_model(name):
    """cross_<name>: model `name` saved by the other torch version, if any."""
    native.filegroup(
        name = "cross_" + name,
        srcs = _make_model(name, OTHER_TORCH_PYTHON, "cross", "Scripting test model with torch %s: " %
                                                              CROSS_VERSIONS.split(" ")[0]) if OTHER_TORCH_PYTHON else [],
    )

def model_without_source(name):
    """name_nosource.pt: model `name` with its debug files removed."""
    native.genrule(
        name = name + "_nosource",
        srcs = [name + ".pt"],
        outs = [name + "_nosource.pt"],
        tools = ["strip_source.py"],
        cmd = "PYTHONDONTWRITEBYTECODE=1 %s $(location strip_source.py) $< $@" % TORCH_PYTHON if TORCH_PYTHON else _NO_PYTHON,
        message = "Stripping the source of test model " + name,
    )
