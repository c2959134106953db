#!/bin/sh
# Builds the example plugins in examples/ (wordcount, tsv) the way a plugin
# author would: each against the headers and galley-1.pc of an installed
# galley (here a staged install made with `meson install --destdir`). The
# modules end up side by side in BUILD_DIR, for one --plugin-dir.
# Usage: scripts/build-example.sh STAGE_DIR BUILD_DIR
set -eu
stage=$(cd "$1" && pwd)
out=$2
pc=$(find "$stage" -name galley-1.pc | head -n 1)
[ -n "$pc" ] || { echo "build-example: no galley-1.pc under $stage" >&2; exit 1; }
# Point the staged .pc at the staged tree, as if galley were installed there.
pcdir=$(mktemp -d)
trap 'rm -rf "$pcdir"' EXIT
sed "s|^prefix=\(.*\)|prefix=$stage\1|" "$pc" > "$pcdir/galley-1.pc"
export PKG_CONFIG_PATH="$pcdir"
rm -rf "$out"
mkdir -p "$out"
for example in wordcount tsv; do
  meson setup "$out/build-$example" "examples/$example" -Dwerror=true >/dev/null
  meson compile -C "$out/build-$example" >/dev/null
  # its own unit tests, against the installed library
  LD_LIBRARY_PATH="$(dirname "$(find "$stage" -name 'libgalley-1.so' | head -n 1)")" \
    meson test -C "$out/build-$example" --print-errorlogs >/dev/null
  cp "$out/build-$example/galley-$example.so" "$out/"
  echo "build-example: built galley-$example.so against the installed galley-1.pc, its tests pass"
done
