"""Checks that featx's docs hold what a newcomer relies on.

- README.md stays a first page (at most 250 lines); the guides live in docs/.
- Every relative link in a Markdown file points at a file of the repository.
- Every docs/ Markdown file a file names exists, and nothing cites a design file
  outside the repository (DESIGN.md): the contract is docs/design.md.

Usage: tools/check_docs.py [ROOT]; exits 1 and prints each problem.
"""
import os
import re
import subprocess
import sys

README_LINES = 250
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
DOC_PATH = re.compile(r"\bdocs/[\w-]+\.md\b")


def tracked(root):
    out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if os.path.isfile(os.path.join(root, p))]


def problems(root):
    files = tracked(root)
    with open(os.path.join(root, "README.md")) as f:
        lines = f.read().count("\n")
    if lines > README_LINES:
        yield f"README.md: {lines} lines, more than {README_LINES}; move the detail into docs/"
    for path in files:
        try:
            with open(os.path.join(root, path)) as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        where = os.path.dirname(path)
        if path.endswith(".md"):
            for target in LINK.findall(text):
                if "://" in target or target.startswith("mailto:"):
                    continue
                if not os.path.exists(os.path.join(root, where, target)):
                    yield f"{path}: link to {target}, which does not exist"
        for cited in sorted(set(DOC_PATH.findall(text))):
            if not os.path.isfile(os.path.join(root, cited)):
                yield f"{path}: cites {cited}, which does not exist"
        if "DESIGN.md" in text and path != "tools/check_docs.py":
            yield f"{path}: cites DESIGN.md, which is not in the repository (the contract is docs/design.md)"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = list(problems(root))
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
