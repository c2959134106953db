#!/bin/sh
# check-install.sh BUILD_DIR PREFIX BINDIR LIBDIR: installs the build into
# a temporary DESTDIR and runs the installed galley there on a small
# pipeline, with no LD_LIBRARY_PATH: outside /usr it must find
# libgalley-1.so.0 by its run path, relative to itself.
set -eu
build=$1 prefix=$2 bindir=$3 libdir=$4
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $bindir in /*) ;; *) bindir=$prefix/$bindir ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/stage" --no-rebuild --quiet >/dev/null
galley=$tmp/stage$bindir/galley
plugins=$tmp/stage$libdir/galley-1/plugins
fail () { echo "check-install: $*" >&2; exit 1; }
[ -x "$galley" ] || fail "no installed galley at $galley"
[ -f "$plugins/galley-files.so" ] || fail "no installed plugins in $plugins"

run () {
  if [ "$prefix" = /usr ]; then
    # the system's search path finds the library once it is installed
    env -u GALLEY_PLUGIN_PATH LD_LIBRARY_PATH="$tmp/stage$libdir" GALLEY_PLUGIN_SYSTEM_PATH="$plugins" "$@"
  else
    env -u LD_LIBRARY_PATH -u GALLEY_PLUGIN_PATH GALLEY_PLUGIN_SYSTEM_PATH="$plugins" "$@"
  fi
}

if [ "$prefix" != /usr ]; then
  resolved=$(env -u LD_LIBRARY_PATH ldd "$galley" | grep 'libgalley-1\.so\.0') || fail "ldd does not list libgalley-1.so.0"
  found=$(printf '%s\n' "$resolved" | sed -n 's/.*=> \(.*\) (0x.*/\1/p')
  [ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$tmp/stage$libdir/libgalley-1.so.0")" ] \
    || fail "libgalley-1.so.0 is not the installed one: $resolved"
fi

run "$galley" --version | grep -q '^galley ' || fail "galley --version failed"
mkdir "$tmp/in"
printf 'The ferry docked at the new pier on Monday morning.\n' > "$tmp/in/a.txt"
printf 'The council voted for the harbour budget on Tuesday.\n' > "$tmp/in/b.txt"
cat > "$tmp/t.pipeline" <<PIPE
[pipeline]
stages=in;repair;dedup;out
stats=

[stage in]
plugin=files
paths=$tmp/in

[stage out]
plugin=export-jsonl
path=$tmp/out.jsonl
PIPE
run "$galley" run -q "$tmp/t.pipeline" || fail "the installed galley could not run a pipeline (exit $?)"
lines=$(wc -l < "$tmp/out.jsonl")
[ "$lines" -eq 2 ] || fail "expected 2 records, got $lines"
echo "ok: installed galley (prefix $prefix) ran a pipeline without LD_LIBRARY_PATH"
