#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer the API fuzz test runs) from PyPI into a virtualenv
# in the cache, outside the repository, pinned; prints the path of its `st` binary. Idempotent:
# nothing to do when present.
set -euo pipefail

version="4.32.5"
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
venv="$cache_root/schemathesis-$version"
bin="$venv/bin/st"

if [[ ! -x "$bin" ]]; then
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is needed to install schemathesis (PyPI package schemathesis)" >&2
    exit 3
  fi
  echo "==> installing schemathesis $version (PyPI) into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"; then
    rm -rf "$venv" # a half-installed venv would pass the check above next time
    echo "error: installing schemathesis==$version from PyPI failed" >&2
    exit 4
  fi
fi
"$bin" --version >/dev/null
echo "$bin"
