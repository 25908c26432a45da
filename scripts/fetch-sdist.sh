#!/usr/bin/env bash
# fetch-sdist.sh — one PyPI source distribution, downloaded and unpacked into
# a folder of its own, for the scripts that build rivals outside the repo
# (build-llamacpp.sh, build-ik-llamacpp.sh). The download goes to a temporary
# folder beside DEST and only a complete unpack is moved into place.
#
#   scripts/fetch-sdist.sh PACKAGE VERSION DEST
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 PACKAGE VERSION DEST" >&2; exit 2; }
PKG=$1 VERSION=$2 DEST=$3
mkdir -p "$(dirname "$DEST")"
tmp="$(mktemp -d "$(dirname "$DEST")/dl.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "downloading $PKG==$VERSION sdist ..." >&2
pip download --quiet --no-deps --no-binary :all: "$PKG==$VERSION" -d "$tmp" >&2
tarball="$(ls "$tmp"/*.tar.gz)"
top="$(basename "$tarball" .tar.gz)" # an sdist unpacks into NAME-VERSION/
tar -xzf "$tarball" -C "$tmp"
rm -rf "$DEST"
mv "$tmp/$top" "$DEST"
