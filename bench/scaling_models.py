"""Synthetic models of a given size in FX nodes, for bench/scaling.py.

Three shapes that stress different parts of a rewrite:
  deep         residual blocks (conv, bn, relu, add) in stages of 250
  wide         stages of 500 parallel 1x1 convs summed into one value
               (one module holds add, add_1, ..., add_499)
  transformer  pre-norm attention + MLP blocks (16 nodes each) with the
               same submodule names in every block (attn.q, mlp.fc1, ...)

  python3 scaling_models.py --family deep --nodes 10000 --out deep_10000.pt
writes the scripted model and, beside it, `<out>.input.pt`;
  python3 scaling_models.py --family deep --nodes 10000 --torchvision
prints the CPU seconds torchvision's get_graph_node_names takes on it.
"""
import argparse
import time
import warnings

import torch
from torch import nn

PER_STAGE = 250


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x))) + x


class Wide(nn.Module):
    def __init__(self, c, branches):
        super().__init__()
        self.branches = nn.ModuleList([nn.Conv2d(c, c, 1) for _ in range(branches)])

    def forward(self, x):
        y = x
        for branch in self.branches:
            y = y + branch(x)
        return y


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))
        self.scale = d ** -0.5

    def forward(self, x):
        a = torch.matmul(self.q(x), self.k(x).transpose(-2, -1)) * self.scale
        return self.proj(torch.matmul(a.softmax(dim=-1), self.v(x)))


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm1, self.attn, self.norm2, self.mlp = nn.LayerNorm(d), Attention(d), nn.LayerNorm(d), Mlp(d)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def stages(make, count, per_stage=PER_STAGE):
    return nn.Sequential(*[nn.Sequential(*[make() for _ in range(min(per_stage, count - i))])
                           for i in range(0, count, per_stage)])


def build(family, nodes):
    if family == "deep":
        return stages(lambda: Residual(2), max(1, nodes // 4)), (1, 2, 4, 4)
    if family == "wide":
        branches = 500
        return nn.Sequential(*[Wide(2, branches) for _ in range(max(1, nodes // (2 * branches)))]), (1, 2, 4, 4)
    if family == "transformer":
        return stages(lambda: TransformerBlock(8), max(1, nodes // 16)), (1, 4, 8)
    raise ValueError(family)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True, choices=["deep", "wide", "transformer"])
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--out")
    parser.add_argument("--torchvision", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    model, shape = build(args.family, args.nodes)
    if args.torchvision:
        from torchvision.models.feature_extraction import get_graph_node_names
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, eval_names = get_graph_node_names(model)
        print(time.process_time() - start, len(eval_names))
        return
    torch.jit.script(model.eval()).save(args.out)
    torch.save(torch.randn(*shape), args.out + ".input.pt")


if __name__ == "__main__":
    main()
