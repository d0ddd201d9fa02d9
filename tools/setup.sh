#!/usr/bin/env bash
# Installs the Debian packages featx builds and tests with, when missing.
# Idempotent: with everything present it only asks dpkg and returns in seconds.
set -euo pipefail

PACKAGES=(
  g++                 # the C++17 toolchain Bazel's auto-configured cc toolchain finds
  bazel-bootstrap     # Bazel 4.2.3
  bazel-rules-java    # @rules_java, which Bazel 4.2.3 needs even for C++ builds
  libtorch-dev        # libtorch 1.13 (CPU): the JIT, its IR and passes
  libabsl-dev         # abseil: Status, flags, strings, containers
  libgtest-dev        # googletest
  libgmock-dev        # googlemock
  libbenchmark-dev    # Google Benchmark, for bench/
  python3-torch       # /usr/bin/python3 with torch: test models, Python host tests
  python3-torchvision # reference answers from torchvision's feature_extraction
  nlohmann-json3-dev  # JSON: names output, manifests, reference answers
  graphviz            # `dot`, which tests use to render `featx names --format=dot`
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "featx setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "featx setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
