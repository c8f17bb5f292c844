#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer the API fuzz test runs) from PyPI, pinned, into a
# virtualenv in the cache; prints the path of its `st` binary.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-pypi-tool.sh" schemathesis schemathesis 4.32.5 st
