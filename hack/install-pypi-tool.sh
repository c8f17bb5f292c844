#!/usr/bin/env bash
# Installs a pinned command-line tool from PyPI into its own virtualenv in the cache, outside the
# repository; prints the path of its binary. Idempotent: nothing to do when present.
#   hack/install-pypi-tool.sh NAME PACKAGE VERSION BINARY [VERSION_ARG]
# VERSION_ARG (default --version) is what the binary is run with to check that it works.
set -euo pipefail

if [[ $# -ne 4 && $# -ne 5 ]]; then
  echo "usage: hack/install-pypi-tool.sh NAME PACKAGE VERSION BINARY [VERSION_ARG]" >&2
  exit 2
fi
name="$1" package="$2" version="$3" binary="$4" version_arg="${5:---version}"
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
venv="$cache_root/$name-$version"
bin="$venv/bin/$binary"

if [[ ! -x "$bin" ]]; then
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is needed to install $name (PyPI package $package)" >&2
    exit 3
  fi
  echo "==> installing $name $version (PyPI $package) into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"; then
    rm -rf "$venv" # a half-installed venv would pass the check above next time
    echo "error: installing $package==$version from PyPI failed" >&2
    exit 4
  fi
fi
"$bin" "$version_arg" >/dev/null
echo "$bin"
