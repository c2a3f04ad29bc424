#!/usr/bin/env bash
# Sets up a Debian 12 machine to build and test crisk, then builds it into build/.
# Run as root from anywhere: `bash scripts/setup-debian.sh`. Idempotent: a second run
# installs nothing new and reconfigures and rebuilds the existing build directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-debian.sh: run as root (it installs Debian packages)" >&2
    exit 1
fi

# What each package is for:
#   meson ninja-build pkg-config    the build, and the pkg-config consumer test
#   gcc libc6-dev                   the C11 compiler and C library headers
#   libcjson-dev                    JSON model parsing
#   libssl-dev                      libcrypto: SHA-256 pinning, Ed25519 checkpoints,
#                                   HMAC-SHA256 of sensor events
#   libopenblas-serial-dev          linear models; the serial variant, because crisk runs
#                                   its own threads (see meson.build)
#   libxgboost-dev                  parity tests, bench/; libxgboost0 (which it brings) reads
#                                   XGBoost's legacy binary format at run time
#   check                           the C test suites (pulls libsubunit-dev)
#   swig default-jdk                the Python and Java bindings
#   junit4                          the Java binding's tests (pulls libhamcrest-java)
#   maven                           the Maven consumer test (tests/maven-consumer)
#   clang libclang-rt-14-dev        libFuzzer targets (scripts/fuzz.sh)
#   valgrind                        memcheck of the crisk command (scripts/memcheck.sh)
#   python3 python3-pip python3-dev the Python binding (headers), the Python test suites
#                                   and the training recipes
#   chromium                        opens `crisk report`'s page headless in the suite
#   tmux                            gives the progress test a terminal
packages=(
    meson ninja-build pkg-config
    gcc libc6-dev
    libcjson-dev
    libssl-dev
    libopenblas-serial-dev
    libxgboost-dev
    check
    swig default-jdk junit4 maven
    clang libclang-rt-14-dev
    valgrind
    python3 python3-pip python3-dev
    chromium tmux
)

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

# The Python packages go to the python3 found first on PATH, the one meson's tests run.
# Debian's own python3 refuses pip installs by default (PEP 668); the variable lets pip
# install there, and is ignored by any other interpreter (pyenv, a virtualenv).
PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --root-user-action=ignore \
    -r requirements.txt

if [ -d build ]; then
    meson setup --reconfigure build -Dwerror=true
else
    meson setup build -Dwerror=true
fi
ninja -C build
