#!/bin/sh
# Installs the Debian packages galley needs to build, test and benchmark.
# Run as root to install; as another user it only reports what is missing.
# Usage: scripts/install-deps.sh [--sanitizers] [--valgrind] [--fuzz] [--slurm] [--browser] [--letter-model]
# --browser: chromium, in which the tests open the run report and
# `galley explain --html` (they are skipped without it)
set -eu

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
    *) echo "install-deps: unknown option $arg" >&2; exit 64 ;;
  esac
done

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

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
