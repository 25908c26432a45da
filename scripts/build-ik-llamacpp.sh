#!/usr/bin/env bash
# Builds ik_llama.cpp's llama-bench (CPU only) as a second reference for
# ember's benchmarks: ik_llama.cpp is the llama.cpp fork with the fastest CPU
# kernels (iqk matrix multiplications, run-time repacking with -rtr 1).  The
# source comes from the ik-llama-cpp-python source distribution on PyPI,
# which vendors ik_llama.cpp's tree under vendor/ik_llama.cpp.  Everything
# lives OUTSIDE the repo, in
#   ${EMBER_CACHE:-$HOME/.cache/ember}/ik_llama.cpp/
# and no ik_llama.cpp code is ever copied into ember.  Idempotent: a finished
# build is detected and reused.  Prints the bin directory on the last line.
#
# The sdist lacks common/cmake/build-info-gen-cpp.cmake, the script that
# writes common/build-info.cpp from git: this script writes build-info.cpp
# itself (the four symbols common/common.h declares) and an empty stub of
# the cmake script, so the build's custom command finds it and does nothing.
# The sdist does not record which ik_llama.cpp commit it vendors; the stamp
# file and the binary's build info name the sdist version instead.
#
#   IK_LLAMACPP_PY_VERSION  ik-llama-cpp-python release to take the source from
#   JOBS                    parallel build jobs (default 2)
set -euo pipefail

VERSION="${IK_LLAMACPP_PY_VERSION:-0.1.5}"
CACHE="${EMBER_CACHE:-$HOME/.cache/ember}"
ROOT="$CACHE/ik_llama.cpp"
SRC="$ROOT/src-$VERSION"
BUILD="$ROOT/build-$VERSION"
BIN="$BUILD/bin"
STAMP="$BUILD/.ember-built"
JOBS="${JOBS:-2}"

if [[ -f "$STAMP" && -x "$BIN/llama-bench" ]]; then
    echo "ik_llama.cpp already built (ik-llama-cpp-python $VERSION, $(cat "$STAMP"))" >&2
    echo "$BIN"
    exit 0
fi

mkdir -p "$ROOT"

# 1. Fetch and unpack the sdist.
if [[ ! -f "$SRC/vendor/ik_llama.cpp/CMakeLists.txt" ]]; then
    "$(dirname "$0")/fetch-sdist.sh" ik-llama-cpp-python "$VERSION" "$SRC"
fi
IK="$SRC/vendor/ik_llama.cpp"

# 2. Build info by hand (see the header).  Keep git out of the build: there
# is no .git in the sdist, and a parent directory's repository is not ours.
CC_BIN="${CC:-cc}"
# the compiler's banner without the quotes or backslashes a C string can't hold
# shellcheck disable=SC1003
CC_NAME="$("$CC_BIN" --version | head -n1 | tr -d '"\\')"
mkdir -p "$IK/common/cmake"
echo "# empty: build-info.cpp is written by ember's scripts/build-ik-llamacpp.sh" \
    >"$IK/common/cmake/build-info-gen-cpp.cmake"
cat >"$IK/common/build-info.cpp" <<EOF
int LLAMA_BUILD_NUMBER = 0;
char const *LLAMA_COMMIT = "ik-llama-cpp-python-$VERSION";
char const *LLAMA_COMPILER = "$CC_NAME";
char const *LLAMA_BUILD_TARGET = "$("$CC_BIN" -dumpmachine)";
EOF

# 3. Configure: CPU only, tuned for this machine.
cmake -S "$IK" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF \
    -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_SERVER=OFF \
    -DBUILD_SHARED_LIBS=OFF \
    -DGIT_EXECUTABLE=/bin/false >&2

# 4. Build llama-bench only.
echo "building: llama-bench" >&2
cmake --build "$BUILD" --config Release -j"$JOBS" --target llama-bench >&2

echo "ik-llama-cpp-python $VERSION ik_llama.cpp@unknown targets: llama-bench" >"$STAMP"
echo "$BIN"
