"""`featx` on the command line: the bundled binary (bin/featx), run with the
libtorch of the torch this package was built against."""
import os
import sys

import torch


def main():
    binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "featx")
    torch_lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (torch_lib, env.get("LD_LIBRARY_PATH", "")) if p)
    os.execve(binary, [binary] + sys.argv[1:], env)


if __name__ == "__main__":
    main()
