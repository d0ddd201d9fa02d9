"""Models nested deeper than a small stack can load, and that small stack.

torch::jit::load recurses once per level of module nesting: 300 levels
overflow a 256 kB stack (SIGSEGV) as thousands overflow the usual 8 MB.
featx's command line and featx_host run on a large stack of their own
(tools/large_stack.h); tests run them under small_stack() to show it.
"""
import resource
import sys

import torch


def save_deep_model(path, depth):
    """Saves a model nesting `depth` modules, each calling the next; its one
    node below the input is `inner.inner...inner.add` (`depth` times)."""

    class Leaf(torch.nn.Module):
        def forward(self, x):
            return x + 1

    class Wrap(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    m = Leaf()
    for _ in range(depth):
        m = Wrap(m)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 50 * depth))
    try:
        torch.jit.script(m).save(path)
    finally:
        sys.setrecursionlimit(limit)


def small_stack():
    """preexec_fn for subprocess: a 256 kB stack for the child."""
    resource.setrlimit(resource.RLIMIT_STACK, (256 << 10, resource.getrlimit(resource.RLIMIT_STACK)[1]))
