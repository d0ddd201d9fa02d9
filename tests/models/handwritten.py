"""Small hand-written models, each covering one shape of graph featx must name
and rewrite. Scripted by make_models.py; their TorchScript class names are
`__torch__.handwritten.<Class>`."""
from enum import Enum
from typing import Tuple

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


class GoldenSubModule(nn.Module):
    """torchvision's own naming test: repeated ops and a module called twice."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x + 1
        x = x + 1
        x = self.relu(x)
        x = self.relu(x)
        return x


class Golden(nn.Module):
    """Expected names: x, submodule.add, submodule.add_1, submodule.relu,
    submodule.relu_1, add, add_1, relu, relu_1."""

    def __init__(self):
        super().__init__()
        self.submodule = GoldenSubModule()
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.submodule(x)
        x = x + 1
        x = x + 1
        x = self.relu(x)
        x = self.relu(x)
        return x


class CalledTwice(nn.Module):
    """One conv module applied twice: layer, layer_1."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.act(self.conv(x))
        x = self.act(self.conv(x))
        return x


class TrainEvalBranch(nn.Module):
    """Train and eval graphs differ: a branch on self.training and a dropout."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.dropout = nn.Dropout(0.5)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        x = self.conv(x)
        if self.training:
            x = x * 0.5
            x = x + 0.1
        else:
            x = torch.sigmoid(x)
        x = x.mean([2, 3])
        x = self.dropout(x)
        return self.head(x)


class InPlaceChain(nn.Module):
    """Values later overwritten in place: bn -> add_ -> relu_ (as in ResNet's
    BasicBlock, where torchvision's extractor returns the overwritten value)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        identity = self.shortcut(x)
        out = self.bn(self.conv(x))
        out = self.relu(out)
        out = out.add_(identity)
        out = out.relu_()
        out.mul_(2.0)
        return out


class ControlFlow(nn.Module):
    """A data-dependent if and a loop: FX cannot trace them, TorchScript keeps
    them as prim::If / prim::Loop."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.conv(x)
        if x.sum() > 0:
            x = self.relu(x)
        else:
            x = torch.tanh(x)
        for _ in range(3):
            x = x * 0.5
        return x


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class Middle(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.blocks = nn.Sequential(Inner(), Inner())

    def forward(self, x):
        return self.blocks(self.inner(x)) + x


class Nested(nn.Module):
    """Custom modules inside custom modules inside a Sequential."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.middle = Middle()
        self.tail = nn.Sequential(Middle(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.tail(self.middle(self.stem(x)))


class Functional(nn.Module):
    """Functional calls at the top level, no submodules on the path."""

    def forward(self, x):
        y = F.relu(x)
        z = torch.cat([x, y], 1)
        z = torch.flatten(z, 1)
        m = z.mean(1, keepdim=True)
        return torch.softmax(z - m, 1)


class TupleOutput(nn.Module):
    """Returns a tuple: two heads on a shared trunk."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Conv2d(3, 4, 3, padding=1)
        self.cls = nn.Linear(4, 2)
        self.box = nn.Linear(4, 3)

    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        f = torch.flatten(F.adaptive_avg_pool2d(self.trunk(x), 1), 1)
        return self.cls(f), self.box(f)


class ViewLeafWrittenInPlace(nn.Module):
    """In-place writes nothing uses directly, made through the view a leaf
    returns (Flatten, Identity): the base shows them. torchvision's extractor
    drops them (FX's dead-code elimination) and so returns values the model
    never computes when only later nodes are chosen; featx keeps them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.flatten = nn.Flatten()
        self.head = nn.Identity()

    def forward(self, x):
        y = self.conv(x)
        f = self.flatten(y)
        f.mul_(2.0)
        z = y.relu()
        h = self.head(z)
        h.add_(1.0)
        return z.sigmoid()


class Memory(nn.Module):
    """Returns its own state, not something made from its argument; a leaf
    when the tests say so (leaf_modules)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mem", torch.arange(48.0).reshape(1, 3, 4, 4))

    def forward(self, x):
        return self.mem


class StateAlias(nn.Module):
    """Two calls of one leaf return the same state for different arguments;
    a write through the second changes the first (and the state: each call
    doubles it)."""

    def __init__(self):
        super().__init__()
        self.memory = Memory()

    def forward(self, x):
        a = self.memory(x)
        b = self.memory(x * 2.0)
        b.mul_(2.0)
        return a + x


# name -> (constructor, input shape). Every model takes one image-like tensor.
@torch.jit.interface
class BlockInterface(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


class ConvBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x)) + 1


class InterfaceBlock(nn.Module):
    """A submodule typed by a torch.jit.interface, as deployed models swap
    implementations: TorchScript calls it through the interface, FX traces
    the object (block.conv, block.relu, block.add)."""

    block: BlockInterface

    def __init__(self):
        super().__init__()
        self.block = ConvBlock()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.block(x).mean([2, 3]))


class PlainConv(nn.Conv2d):
    """Not a torch.nn class, so FX traces through its forward: it reads
    self.weight and self.bias (get_attr nodes), and no node for a bias that
    is None."""


class NoneParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PlainConv(3, 4, 3, padding=1, bias=False)
        self.conv2 = PlainConv(4, 4, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv(x))


class TracedPassThrough(nn.Module):
    """Saved by torch.jit.trace (the way most models reach Triton): leaves
    that return the tensor they were given (nn.Identity; StochasticDepth in
    eval) become calls without a value in the trace."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.ident = nn.Identity()
        self.relu = nn.ReLU()
        self.depth = torchvision.ops.StochasticDepth(0.2, "row")
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.relu(self.ident(self.conv(x)))
        return self.fc(self.depth(y).mean([2, 3]))


class ForwardDefaults(nn.Module):
    """forward's extra arguments have default values; callers send only x, or
    name the others (model(x, offset=1.0)). A rewrite must keep that."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x, scale: float = 2.0, offset: float = 0.5):
        y = self.conv(x) * scale + offset
        return self.head(y.mean([2, 3]))


class Suffixes(nn.Module):
    """torchvision's `_<digits>` rule at its edges: submodules whose names end
    in digits (conv_1, conv_1_2, relu_5), modules called again after others
    of the same stem, and an op repeated past ten (relu_10, relu_11)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.conv_1 = nn.Conv2d(3, 3, 1)
        self.conv_1_2 = nn.Conv2d(3, 3, 1)
        self.relu_5 = nn.ReLU()
        self.block_3 = nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU())

    def forward(self, x):
        x = self.conv(x)
        x = self.conv_1(x)
        x = self.conv(x)
        x = self.conv_1_2(x)
        x = self.conv_1(x)
        x = self.conv(x)
        # Written out: TorchScript keeps a `for` loop, FX unrolls it.
        x = F.relu(F.relu(F.relu(F.relu(F.relu(F.relu(x))))))
        x = self.relu_5(x)
        x = F.relu(F.relu(F.relu(F.relu(F.relu(F.relu(F.relu(x)))))))
        x = self.relu_5(x)
        x = self.block_3(x)
        x = self.block_3(x)
        return x + 1


class Layout(Enum):
    NCHW = "NCHW"
    NHWC = "NHWC"


class PythonValues(nn.Module):
    """What FX computes in Python while tracing, and records once or not at
    all: a subscript over several axes (one getitem), torch._assert on a
    Proxy (one _assert), x.dtype an op takes (a getattr), list concatenation,
    the strings of a message and a branch on an enum attribute (no node, one
    side: timm's Format)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)
        self.layout = Layout.NCHW

    def forward(self, x):
        torch._assert(x.shape[1] == 3, "expected 3 channels, got " + str(x.shape[1]))
        y = self.conv(x)
        y = torch.cat([y[:, :2, :, :]] + [y[:, 2:]], 1)
        if self.layout == Layout.NHWC:
            y = y.permute(0, 2, 3, 1)
        z = y[:, 0].unsqueeze(1) + y[None, 0, 1:2]
        weight = self.head.weight.to(x.dtype)
        return z.mean([2, 3]) * weight.sum()


MODELS = {
    "golden": (Golden, (1, 3, 8, 8)),
    "called_twice": (CalledTwice, (1, 3, 16, 16)),
    "train_eval_branch": (TrainEvalBranch, (2, 3, 16, 16)),
    "inplace_chain": (InPlaceChain, (1, 3, 16, 16)),
    "control_flow": (ControlFlow, (1, 3, 16, 16)),
    "nested": (Nested, (1, 3, 16, 16)),
    "functional": (Functional, (2, 3, 8, 8)),
    "tuple_output": (TupleOutput, (2, 3, 16, 16)),
    "view_leaf_written_in_place": (ViewLeafWrittenInPlace, (1, 3, 8, 8)),
    "state_alias": (StateAlias, (1, 3, 4, 4)),
    "forward_defaults": (ForwardDefaults, (1, 3, 8, 8)),
    "interface_block": (InterfaceBlock, (1, 3, 8, 8)),
    "none_parameter": (NoneParameter, (1, 3, 8, 8)),
    "suffixes": (Suffixes, (1, 3, 4, 4)),
    "traced_pass_through": (TracedPassThrough, (1, 3, 8, 8)),
    "python_values": (PythonValues, (1, 3, 8, 8)),
}

# Saved with torch.jit.trace on the example input instead of torch.jit.script.
TRACED = {"traced_pass_through"}
