#!/usr/bin/env bash
# The main job on a fresh machine: set-up, then the local control plane with FlexCore's CRDs
# and the samples from docs/samples, and real plugins moving real rows on the real node when
# the machine allows it (root). Pass --once to stop when the runs have finished, --kwok to
# leave the real node out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ "$(id -u)" -eq 0 && " $* " != *" --kwok "* ]]; then
  bash hack/setup.sh --with-node
else
  bash hack/setup.sh
fi
exec node --import tsx hack/up.ts "$@"
