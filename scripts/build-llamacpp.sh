#!/usr/bin/env bash
# Builds llama.cpp's command-line tools (CPU only) as a reference for ember's
# tests and benchmarks.  The source comes from the llama-cpp-python source
# distribution on PyPI, which vendors llama.cpp's full tree under
# vendor/llama.cpp.  Everything lives OUTSIDE the repo, in
#   ${EMBER_CACHE:-$HOME/.cache/ember}/llama.cpp/
# and no llama.cpp code is ever copied into ember.  Idempotent: a finished
# build is detected and reused.  Prints the bin directory on the last line.
#
#   LLAMACPP_PY_VERSION  llama-cpp-python release to take the source from
#   LLAMACPP_TARGETS     override the list of cmake targets to build (a build
#                        counts as done when these binaries exist; default:
#                        when llama-tokenize does)
#   JOBS                 parallel build jobs (default 2)
#   LLAMACPP_CUDA=1      build with GGML_CUDA (nvcc from PATH or
#                        /usr/local/cuda/bin) into its own build-VERSION-cuda
#                        dir, for compute capabilities CUDA_ARCH (cmake's
#                        list, e.g. "89" or "80;90"; default: native, the GPU
#                        of this machine), for scripts/cuda-check.sh
set -euo pipefail

VERSION="${LLAMACPP_PY_VERSION:-0.3.36}"
CACHE="${EMBER_CACHE:-$HOME/.cache/ember}"
ROOT="$CACHE/llama.cpp"
SRC="$ROOT/src-$VERSION"
CUDA="${LLAMACPP_CUDA:-0}"
BUILD="$ROOT/build-$VERSION$([[ $CUDA == 1 ]] && echo -cuda || true)"
BIN="$BUILD/bin"
STAMP="$BUILD/.ember-built"
JOBS="${JOBS:-2}"

# A finished build: the stamp, plus the binaries asked for (LLAMACPP_TARGETS,
# e.g. just llama-bench for benchmarking) or, by default, llama-tokenize.
built=1
read -r -a need <<<"${LLAMACPP_TARGETS:-llama-tokenize}"
for t in "${need[@]}"; do [[ -x "$BIN/$t" ]] || built=0; done
if [[ -f "$STAMP" && $built == 1 ]]; then
    echo "llama.cpp already built (llama-cpp-python $VERSION, $(cat "$STAMP"))" >&2
    echo "$BIN"
    exit 0
fi

mkdir -p "$ROOT"

# 1. Fetch and unpack the sdist.
if [[ ! -f "$SRC/vendor/llama.cpp/CMakeLists.txt" ]]; then
    "$(dirname "$0")/fetch-sdist.sh" llama-cpp-python "$VERSION" "$SRC"
fi
LLAMA="$SRC/vendor/llama.cpp"

# The llama.cpp commit this release vendors, as its changelog states it.
COMMIT="$(sed -n "/^## \[$VERSION\]/,/^## \[/p" "$SRC/CHANGELOG.md" |
          grep -o 'llama.cpp@[0-9a-f]*' | head -n1 | cut -d@ -f2 || true)"
COMMIT="${COMMIT:-unknown}"

# 2. Configure.  The sdist carries a stray .git of llama-cpp-python itself,
# which llama.cpp's build-info would report as its own commit: drop it and
# keep git out of the build (the stamp file records the commit instead).
rm -rf "$SRC/.git"
cuda_flags=(-DGGML_CUDA=OFF)
if [[ $CUDA == 1 ]]; then
    nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
    cuda_flags=(-DGGML_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc"
                -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-native}")
fi
cmake -S "$LLAMA" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF \
    "${cuda_flags[@]}" -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_OPENCL=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DGIT_EXECUTABLE=/bin/false >&2

# 3. Build the tools that exist in this version.  The text generators first:
# llama-completion (raw completion, newer trees) or llama-cli (older trees,
# where it still does raw completion with -no-cnv), and llama-simple.
if [[ -n "${LLAMACPP_TARGETS:-}" ]]; then
    read -r -a targets <<<"$LLAMACPP_TARGETS"
else
    available="$(cmake --build "$BUILD" --target help 2>/dev/null || true)"
    targets=()
    # The speculative tools (a draft model; n-gram lookup) are the
    # reference for scripts/bench-speculative.sh.
    want=(llama-simple llama-completion llama-perplexity llama-bench
          llama-tokenize llama-quantize llama-speculative
          llama-speculative-simple llama-lookup)
    # Newer llama-cli is a chat front end built on the server code (slow to
    # build, not needed when llama-completion exists).
    grep -qw llama-completion <<<"$available" || want+=(llama-cli)
    for t in "${want[@]}"; do
        if grep -qw -- "$t" <<<"$available"; then targets+=("$t"); fi
    done
fi
echo "building: ${targets[*]}" >&2
cmake --build "$BUILD" --config Release -j"$JOBS" --target "${targets[@]}" >&2

echo "llama-cpp-python $VERSION llama.cpp@$COMMIT$([[ $CUDA == 1 ]] && echo ' (CUDA)' || true) targets: ${targets[*]}" >"$STAMP"
echo "$BIN"
