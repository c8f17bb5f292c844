#!/usr/bin/env bash
# The main job on a fresh machine: set-up, then the local control plane with FlexCore's CRDs
# and the samples from docs/samples. Pass --once to stop after showing them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/setup.sh
exec node --import tsx hack/up.ts "$@"
