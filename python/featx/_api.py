"""torchvision's feature-extraction API on TorchScript modules, in memory.

The functions take what torchvision's take (get_graph_node_names,
create_feature_extractor) and answer as they do, on a ScriptModule
(torch.jit.script or torch.jit.load) instead of an nn.Module; the work is
the plugin's (torch.ops.featx.*, plugin/host/python_ops.cc).
"""
import contextlib
import io
import json
import os
import re
import tempfile
import types
import warnings
import weakref

import torch

# What featx does with torchvision's tracer_kwargs keys; a key it cannot
# honour is an error naming it, never silently ignored.
_TRACER_KWARGS = {"leaf_modules": "featx_leaf_modules", "autowrap_functions": "featx_leaf_functions",
                  "autowrap_modules": "featx_leaf_functions"}
_MODES = ("dict", "tuple", "tap")
_manifests = weakref.WeakKeyDictionary()


class FeatxWarning(UserWarning):
    """What featx warns of (the train/eval graph difference, in torchvision's
    words); a UserWarning, as torchvision's own."""


def _is_program(value):
    """An exported program (torch.export): the object, or a .pt2 path."""
    exported = getattr(getattr(torch, "export", None), "ExportedProgram", None)
    if exported is not None and isinstance(value, exported):
        return True
    return isinstance(value, (str, os.PathLike)) and os.fspath(value).endswith(".pt2")


@contextlib.contextmanager
def _program_path(program):
    """A path to `program`'s archive: its own, or an ExportedProgram saved to a temporary one."""
    if isinstance(program, (str, os.PathLike)):
        yield os.fspath(program)
        return
    with tempfile.TemporaryDirectory(prefix="featx-") as tmp:
        path = os.path.join(tmp, "program.pt2")
        torch.export.save(program, path)
        yield path


def _program_classes(path):
    """The Python classes of the modules an exported program's nodes ran in: the last field of each
    "key,path,class" entry of their nn_module_stack (plugin/export/export_names.cc reads the same)."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("models/model.json"))
            graph = json.loads(archive.read(name))["graph_module"]["graph"]
    except (OSError, zipfile.BadZipFile, StopIteration, ValueError, KeyError, TypeError):
        return set()  # not a program: featx's own call names the problem
    stacks = [node.get("metadata", {}).get("nn_module_stack") or "" for node in graph["nodes"]]
    classes = {entry.rsplit(",", 1)[-1] for stack in stacks for entry in stack.split(";") if "," in entry}
    return classes | {name.rsplit(".", 1)[-1] for name in classes}  # a class of __main__ by its bare name


def _program_flags(path, tracer_kwargs, concrete_args):
    """An exported program takes leaf modules only (by class or name): export has inlined the rest. A
    class the program does not have is dropped, as torchvision ignores it (timm's registry lists those
    of all its models); a name is kept, and one the program lacks is featx's error."""
    tracer_kwargs = dict(tracer_kwargs or {})
    leaves = tracer_kwargs.pop("leaf_modules", None) or []
    if tracer_kwargs or concrete_args:
        raise ValueError(f"an exported program takes tracer_kwargs={{'leaf_modules': [...]}} only: export has "
                         f"already inlined functions and fixed arguments, got "
                         f"{sorted(tracer_kwargs) + (['concrete_args'] if concrete_args else [])}")
    present = _program_classes(path) if any(not isinstance(leaf, str) for leaf in leaves) else set()
    names = [leaf if isinstance(leaf, str) else _python_name(leaf) for leaf in leaves]
    names = [name for name, leaf in zip(names, leaves) if isinstance(leaf, str) or name in present]
    return [_flag("featx_leaf_modules", names)] if names else []


def _check_module(module):
    if not isinstance(module, torch.jit.ScriptModule):
        raise TypeError(f"featx works on TorchScript modules (torch.jit.script(model) or torch.jit.load(path)), "
                        f"got {type(module).__name__}; for an nn.Module use torchvision.models.feature_extraction")


def _python_name(obj):
    # TorchScript names a class or function after its module:
    # mymodels.MyBlock; one of the main script has only its bare name. A
    # callable without those (typing.Optional) is nothing TorchScript calls.
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return qualname if module == "__main__" else f"{module}.{qualname}"


class _TracerNames:
    """The model's module classes and called functions (bare and qualified),
    asked of the plugin once, when a tracer_kwargs list holds objects."""

    def __init__(self, module):
        self.module, self.names = module, None

    def __contains__(self, name):
        if self.names is None:
            classes, functions = _on_module(torch.ops.featx.tracer_names, self.module)
            qualified = set(classes) | set(functions)
            self.names = qualified | {n.rsplit(".", 1)[-1] for n in qualified}
        return name in self.names


def _leaf_names(key, leaves, present):
    """A tracer_kwargs list (torchvision's leaf_modules: classes;
    autowrap_functions: functions) as featx's flag takes it. An object the
    model does not have is dropped, as torchvision ignores it (a library's
    registry, such as timm's, lists those of all its models); a name is
    kept, and one the model lacks is featx's error with the closest names."""
    names = []
    for leaf in leaves:
        if isinstance(leaf, str):
            names.append(leaf)
        elif isinstance(leaf, type) if key == "leaf_modules" else callable(leaf):
            # FX autowraps no function whose name starts with "_".
            ignored = key == "autowrap_functions" and getattr(leaf, "__name__", "_").startswith("_")
            if not ignored and _python_name(leaf) in present:
                names.append(_python_name(leaf))
        else:
            what = "module classes" if key == "leaf_modules" else "functions"
            raise TypeError(f"tracer_kwargs[{key!r}] takes {what} or their names, got {leaf!r}")
    return names


def _module_functions(modules):
    """torchvision's autowrap_modules as functions: FX wraps every public
    callable of each module (math's, by default, are TorchScript builtins:
    no call of them is left to wrap)."""
    functions = []
    for module in modules:
        if not isinstance(module, types.ModuleType):
            raise TypeError(f"tracer_kwargs['autowrap_modules'] takes Python modules, got {module!r}")
        functions += [value for name, value in vars(module).items()
                      if not name.startswith("_") and callable(value) and not isinstance(value, type)]
    return functions


def _concrete_args_flag(concrete_args):
    """torchvision's concrete_args as featx's flag: forward arguments fixed to
    None, a bool, an int or a float (what FX's check can compare)."""
    specs = []
    for name, value in concrete_args.items():
        if value is not None and type(value) not in (bool, int, float):
            raise ValueError(f"concrete_args[{name!r}]: featx fixes an argument to None, a bool, an int or a "
                             f"float, got {type(value).__name__}")
        specs.append(f"{name}={value!r}")
    return _flag("featx_concrete_args", specs)


def _tracer_flags(module, tracer_kwargs, suppress_diff_warning, concrete_args):
    flags = []
    unknown = sorted(set(tracer_kwargs or {}) - set(_TRACER_KWARGS))
    if unknown:
        raise ValueError(f"featx cannot honour tracer_kwargs {unknown}; it takes {list(_TRACER_KWARGS)}")
    present = _TracerNames(module)
    leaves = {}  # flag -> names, in tracer_kwargs' order
    for key, flag in _TRACER_KWARGS.items():
        given = (tracer_kwargs or {}).get(key, ())
        if key == "autowrap_modules":
            key, given = "autowrap_functions", _module_functions(given)
        leaves.setdefault(flag, []).extend(n for n in _leaf_names(key, given, present)
                                           if n not in leaves.get(flag, []))
    flags += [_flag(flag, names) for flag, names in leaves.items() if names]
    if concrete_args:
        flags.append(_concrete_args_flag(concrete_args))
    if suppress_diff_warning:
        flags.append("--featx_suppress_diff_warning")
    return flags


def _flag(name, values):
    values = [values] if isinstance(values, str) else list(values)
    for value in values:
        if not isinstance(value, str) or not value or re.search(r"[\s,]", value):
            raise ValueError(f"{name[len('featx_'):]}: {value!r} is not a node, class or argument name")
    return f"--{name}=" + ",".join(values)


def _specs(nodes, argument):
    """torchvision's return nodes (a list of names, or {name: output name})."""
    if isinstance(nodes, dict):
        return [f"{node}:{name}" for node, name in nodes.items()]
    if isinstance(nodes, str):
        raise TypeError(f"{argument} takes a list of node names or a dict {{node: output name}}, got a str")
    return list(nodes)


def _call(op, module, flags):
    """Runs a featx op on `module` in memory; raises the warnings it returns
    (featx's, e.g. the train/eval difference) from the caller's line, as
    torchvision's own. Returns the op's other results."""
    *result, messages = _on_module(op, module, " ".join(flags))
    for message in messages:
        warnings.warn(message, FeatxWarning, stacklevel=3)
    return result


def _on_module(op, module, *args):
    """op(module, *args); torch 1.13 cannot hand an op a ScriptModule, so
    there the op gets the module's bytes (plugin/host/python_ops.cc)."""
    try:
        return op(module, *args)
    except RuntimeError as e:
        if "infer type" not in str(e):
            raise
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    return op(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8), *args)


def _module_from(value):
    if isinstance(value, torch.Tensor):
        return torch.jit.load(io.BytesIO(value.numpy().tobytes()))
    return torch.jit._recursive.wrap_cpp_module(value)


def get_graph_node_names(module, tracer_kwargs=None, suppress_diff_warning=False, concrete_args=None):
    """torchvision's get_graph_node_names for a ScriptModule: the node names
    in train mode and in eval mode, each in execution order, with
    torchvision's warning when they differ. For an exported program (an
    ExportedProgram or a .pt2 path) both lists are its one graph's names."""
    if _is_program(module):
        with _program_path(module) as path:
            flags = _program_flags(path, tracer_kwargs, concrete_args)
            names = list(torch.ops.featx.program_node_names(path, " ".join(flags)))
        return names, list(names)
    _check_module(module)
    flags = _tracer_flags(module, tracer_kwargs, suppress_diff_warning, concrete_args)
    train, eval_ = _call(torch.ops.featx.graph_node_names, module, flags)
    return list(train), list(eval_)


def create_feature_extractor(module, return_nodes=None, train_return_nodes=None, eval_return_nodes=None,
                             tracer_kwargs=None, suppress_diff_warning=False, concrete_args=None, mode="dict"):
    """torchvision's create_feature_extractor for a ScriptModule: a new
    ScriptModule whose forward returns {output name: Tensor} of the chosen
    nodes (mode "dict"), the model's outputs then the nodes as one tuple
    (mode "tuple", for Triton), or the model's own output with the nodes
    tapped for featx.capture() (mode "tap"). It shares `module`'s parameters,
    and in dict and tuple mode it saves and serves without featx.
    manifest(extractor) says which output is which node.

    An ExportedProgram gives a new ExportedProgram returning the nodes (dict
    or tuple mode; docs/export.md): .module() runs it, AOTInductor compiles it."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {list(_MODES)}, got {mode!r}")
    if _is_program(module):
        if train_return_nodes is not None or eval_return_nodes is not None:
            raise ValueError("an exported program has one graph: give return_nodes")
        with _program_path(module) as path, tempfile.TemporaryDirectory(prefix="featx-") as tmp:
            flags = _program_flags(path, tracer_kwargs, concrete_args) + [f"--featx_mode={mode}"]
            flags.append(_flag("featx_return_nodes", _specs(return_nodes or [], "return_nodes")))
            output = os.path.join(tmp, "features.pt2")
            made = json.loads(torch.ops.featx.rewrite_program(path, output, " ".join(flags)))
            program = torch.export.load(output)
        _manifests[program] = made
        return program
    _check_module(module)
    flags = _tracer_flags(module, tracer_kwargs, suppress_diff_warning, concrete_args) + [f"--featx_mode={mode}"]
    for name, nodes in (("featx_return_nodes", return_nodes), ("featx_train_return_nodes", train_return_nodes),
                        ("featx_eval_return_nodes", eval_return_nodes)):
        if nodes is not None:
            specs = _specs(nodes, name[len("featx_"):])
            flags.append(_flag(name, specs) if specs else f"--{name}=")
    made, manifest = _call(torch.ops.featx.create_feature_extractor, module, flags)
    extractor = _module_from(made)
    _manifests[extractor] = json.loads(manifest)
    return extractor


def instrument(module, flags=""):
    """Rewrites `module` in place as a server does at load time: `flags` are
    featx's (--featx_mode=tap --featx_return_nodes=layer1,fc:logits ...,
    after those in FEATX_FLAGS; tap mode by default), sinks included. On an
    error `module` is unchanged. Returns the manifest."""
    _check_module(module)
    if not isinstance(flags, str):
        raise TypeError(f"flags is one string of --featx_* flags, got {type(flags).__name__}")
    made, manifest = _call(torch.ops.featx.instrument, module, [flags])
    module._reconstruct(made if not isinstance(made, torch.Tensor) else _module_from(made)._c)
    _manifests[module] = json.loads(manifest)
    return _manifests[module]


def load(path, flags="", map_location=None):
    """torch.jit.load(path, map_location), then instrument(model, flags): what a
    server does at start-up, in memory, for about what the plain load costs.
    Returns the model; featx.manifest(model) says what it emits."""
    if not isinstance(flags, str):
        raise TypeError(f"flags is one string of --featx_* flags, got {type(flags).__name__}")
    if not isinstance(path, (str, os.PathLike)) or isinstance(map_location, dict):
        # A file object, or a map_location only torch.jit.load understands.
        model = torch.jit.load(path, map_location=map_location)
        instrument(model, flags)
        return model
    if not os.path.exists(path):
        raise ValueError(f"The provided filename {path} does not exist")  # torch.jit.load's words
    device = None if map_location is None else torch.device(map_location)
    made, manifest, messages = torch.ops.featx.load(os.fspath(path), flags, device)
    for message in messages:
        warnings.warn(message, FeatxWarning, stacklevel=2)
    model = torch.jit._recursive.wrap_cpp_module(made)
    _manifests[model] = json.loads(manifest)
    return model


@contextlib.contextmanager
def warnings_to(logger):
    """featx's warnings raised inside the block go to `logger` (a host's log)
    instead of Python's warnings; other warnings pass through."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        # Outside the recording block: a warning passed on is not recorded again.
        for w in caught:
            if issubclass(w.category, FeatxWarning):
                logger.warning("featx: %s", w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def manifest(module):
    """What an extractor or instrumented module emits: {"mode": ..., "train":
    [{"name", "node", ...}], "eval": [...]}; tuple mode adds each slot's
    index and Triton name (OUTPUT__i)."""
    if module not in _manifests:
        raise KeyError("this module was not made by featx.create_feature_extractor or featx.instrument")
    return _manifests[module]


@contextlib.contextmanager
def capture():
    """The activations tap-mode models record on this thread while the block
    runs: the dict it yields is filled when the block ends, also when it
    raises, so the next request on the thread starts clean.

        with featx.capture() as activations:
            model(x)
        activations["layer1"]
    """
    activations = {}
    torch.ops.featx.capture_begin()
    try:
        yield activations
    finally:
        activations.update(torch.ops.featx.capture_end())


def rewrite_file(model_path, output_path, flags=""):
    """Rewrites a saved model into a new file (written whole or not at all),
    as featx's flags say (after FEATX_FLAGS). Returns the manifest. An
    exported program (.pt2) takes --featx_mode=dict or tuple, and no sinks."""
    if _is_program(model_path):
        return json.loads(torch.ops.featx.rewrite_program(os.fspath(model_path), os.fspath(output_path), flags))
    return json.loads(torch.ops.featx.rewrite_file(model_path, output_path, flags))


def list_passes():
    """The registered passes in load-time order, for --featx_passes."""
    return list(torch.ops.featx.list_passes())
