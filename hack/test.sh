#!/usr/bin/env bash
# Runs every test on a fresh machine: set-up (packages, control plane, redis-server, the real
# node and its images), then type checks, lint, import-cycle check, unit and integration tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/setup.sh --with-redis --with-node
npm test
