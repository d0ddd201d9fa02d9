#!/usr/bin/env bash
# Installs what featx builds and tests with, when missing: Debian's packages
# always, and for FEATX_LIBTORCH=pip a virtual environment .venv/ holding the
# PyPI torch and torchvision pinned in tools/requirements-torch2.txt, the
# serving runtimes of tools/requirements-hosts.txt (TorchServe, Ray) with the
# JDK TorchServe's frontend runs on, and the CUDA compiler of
# tools/requirements-cuda-toolkit.txt (CMake builds against PyPI's torch).
# FEATX_LIBTORCH may list several choices (debian,pip), as tools/run_tests.sh
# takes them. Idempotent: with everything present it only asks dpkg and reads
# a stamp, and returns in seconds.
#   tools/setup.sh                      # Debian's libtorch 1.13
#   FEATX_LIBTORCH=pip tools/setup.sh   # and PyPI's torch 2.x in .venv/
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

PACKAGES=(
  g++                 # the C++17 toolchain Bazel's auto-configured cc toolchain finds
  binutils            # nm: the libtorch repository rule reads libc10.so's C++ ABI
  bazel-bootstrap     # Bazel 4.2.3
  bazel-rules-java    # @rules_java, which Bazel 4.2.3 needs even for C++ builds
  libtorch-dev        # libtorch 1.13 (CPU): the JIT, its IR and passes
  bazel-skylib        # @bazel_skylib, which abseil's BUILD files load
  bazel-platforms     # @platforms, likewise
  patch               # GNU patch, which applies abseil's security fix (WORKSPACE)
  patchelf            # dist/: the C++ package's binaries without Bazel's rpaths
  cmake               # dist/: the package's CMake version file; its CMake test
  libgtest-dev        # googletest
  libgmock-dev        # googlemock
  libbenchmark-dev    # Google Benchmark, for bench/
  python3-torch       # /usr/bin/python3 with torch: test models, Python host tests
  python3-torchvision # reference answers from torchvision's feature_extraction
  python3-venv        # the virtual environment for FEATX_LIBTORCH=pip
  nlohmann-json3-dev  # JSON: names output, manifests, reference answers
  graphviz            # `dot`, which tests use to render `featx names --format=dot`
)

# TorchServe's frontend (tests/servers, with FEATX_LIBTORCH=pip).
if [[ ",${FEATX_LIBTORCH:-debian}," == *,pip,* ]]; then
  PACKAGES+=(openjdk-17-jre-headless)
fi

# The hunting runs (tools/run_tests.sh with FEATX_SANITIZERS=1 or
# FEATX_FUZZ=1): clang for ASan+UBSan and libFuzzer; gcc's TSan runtime.
if [[ "${FEATX_SANITIZERS:-0}" == 1 || "${FEATX_FUZZ:-0}" == 1 ]]; then
  PACKAGES+=(clang-14 libclang-rt-14-dev libtsan2)
fi

# The style and docs checks (tools/lint.sh, FEATX_LINT=1).
if [[ "${FEATX_LINT:-0}" == 1 ]]; then
  PACKAGES+=(clang-format-14)
fi

install_debian_packages() {
  local missing=() status pkg
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0

  echo "featx setup: installing ${missing[*]}" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "featx setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

# PyPI's Linux torch wheel is a CUDA build: with its nvidia-* dependencies it
# is about 5 GB installed. The C++ build needs only torch/include and
# torch/lib, but the Python that makes the reference answers imports torch,
# which loads the CUDA libraries, so they are installed too. pip keeps what it
# downloads in its cache (~/.cache/pip), so a second install is offline-fast.
install_venv() {
  local venv="${FEATX_VENV:-$root/.venv}"
  local requirements="$root/tools/requirements-torch2.txt"
  local stamp="$venv/featx-requirements.txt"
  if [[ -x "$venv/bin/python" ]] && cmp -s "$requirements" "$stamp"; then
    return 0
  fi
  echo "featx setup: installing $(grep -v '^#' "$requirements" | xargs) into $venv (about 5 GB; a few minutes)" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --progress-bar off -r "$requirements" >&2
  "$venv/bin/python" -c 'import torch, torchvision; print("featx setup: torch", torch.__version__, "torchvision", torchvision.__version__)' >&2
  cp "$requirements" "$stamp"
}

# Installs a requirements file with the environment's pip (more pip
# arguments after the three), unless `stamp` holds the same file: then it is
# there already, and this returns 1.
install_requirements() {
  local requirements="$1" stamp="$2" where="$3"
  shift 3
  cmp -s "$requirements" "$stamp" && return 1
  echo "featx setup: installing $(grep -v '^#' "$requirements" | xargs) into $where" >&2
  "${FEATX_VENV:-$root/.venv}/bin/pip" install --quiet --progress-bar off "$@" -r "$requirements" >&2
}

# The serving runtimes, beside torch in the same environment: they import the
# torch they serve with. Their own stamp, so changing them never reinstalls
# torch.
install_hosts() {
  local venv="${FEATX_VENV:-$root/.venv}"
  local requirements="$root/tools/requirements-hosts.txt"
  install_requirements "$requirements" "$venv/featx-hosts-requirements.txt" "$venv" || return 0
  "$venv/bin/python" -c 'import ts, ray, pyarrow; print("featx setup: torchserve", ts.__version__, "ray", ray.__version__, "pyarrow", pyarrow.__version__)' >&2
  cp "$requirements" "$venv/featx-hosts-requirements.txt"
}

# The CUDA compiler that CMake projects built against PyPI's (CUDA) torch
# need, apart from the environment's packages (about 300 MB).
install_cuda_toolkit() {
  local target="${FEATX_VENV:-$root/.venv}/featx-cuda-toolkit"
  local requirements="$root/tools/requirements-cuda-toolkit.txt"
  cmp -s "$requirements" "$target/featx-requirements.txt" && return 0
  rm -rf "$target"  # pip --target does not replace what is there
  install_requirements "$requirements" "$target/featx-requirements.txt" "$target" --target "$target" || return 0
  cp "$requirements" "$target/featx-requirements.txt"
}

install_debian_packages
IFS=',' read -r -a choices <<<"${FEATX_LIBTORCH:-debian}"
for choice in "${choices[@]}"; do
  case "$choice" in
    pip) install_venv && install_hosts && install_cuda_toolkit ;;
    debian | "") ;;
    *) [[ -d "$choice" ]] || { echo "featx setup: FEATX_LIBTORCH=$choice is not debian, pip or a directory" >&2; exit 1; } ;;
  esac
done
