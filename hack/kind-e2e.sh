#!/usr/bin/env bash
# End-to-end on kind, for machines WITH a Docker engine (untested here: the machines this project
# is built on have none; hack/ and test/e2e use the local plane and its real node instead).
# Builds the controller's evaluation image with Docker, creates a kind cluster, loads the image,
# installs the chart in evaluation mode (kind's default StorageClass provides the claim), runs a
# sample pipeline to Succeeded and `helm test`. Leaves the cluster for inspection unless
# --delete is given.
#
#   hack/kind-e2e.sh [--delete]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cluster="flexcore-e2e"
image="localhost/flexcore/controller:e2e-evaluation"
kind_version="v0.33.0"
delete=false
[[ "${1:-}" == "--delete" ]] && delete=true

if ! docker info >/dev/null 2>&1; then
  echo "error: no Docker engine answers (docker info failed); kind needs one. Without Docker, run the" >&2
  echo "       end-to-end suite on the local plane instead: npm run test:e2e (see docs/helm.md)" >&2
  exit 3
fi
command -v go >/dev/null || { echo "error: Go is needed to build kind $kind_version" >&2; exit 3; }

tools="$(bash "$here/build-tools.sh" --gitops)"
helm="$tools/helm"
kubectl="$(bash "$here/build-tools.sh")/kubectl" # kubectl comes with the plane's tools
kind_dir="${XDG_CACHE_HOME:-$HOME/.cache}/flexcore/kind-$kind_version"
if [[ ! -x "$kind_dir/kind" ]]; then
  echo "==> building kind $kind_version" >&2
  GOBIN="$kind_dir" GOTOOLCHAIN=local go install "sigs.k8s.io/kind@$kind_version"
fi
kind="$kind_dir/kind"

echo "==> building $image" >&2
docker build --target evaluation -t "$image" "$repo"

if ! "$kind" get clusters | grep -qx "$cluster"; then
  "$kind" create cluster --name "$cluster" --wait 120s
fi
kubeconfig="$(mktemp)"
trap 'rm -f "$kubeconfig"' EXIT
"$kind" get kubeconfig --name "$cluster" >"$kubeconfig"
export KUBECONFIG="$kubeconfig"
"$kind" load docker-image "$image" --name "$cluster"

"$kubectl" create namespace flexcore-system --dry-run=client -o yaml | "$kubectl" apply -f -
"$kubectl" label namespace flexcore-system --overwrite pod-security.kubernetes.io/enforce=restricted
"$helm" upgrade --install flexcore "$repo/charts/flexcore" -n flexcore-system \
  --set evaluation.enabled=true \
  --set image.repository=localhost/flexcore/controller --set image.tag=e2e-evaluation \
  --set image.pullPolicy=Never --wait --timeout 5m
"$helm" test flexcore -n flexcore-system --timeout 3m

"$kubectl" create namespace flexcore-e2e --dry-run=client -o yaml | "$kubectl" apply -f -
"$kubectl" label namespace flexcore-e2e --overwrite pod-security.kubernetes.io/enforce=restricted
"$kubectl" -n flexcore-e2e apply -f - <<'EOF'
apiVersion: flexcore.io/v1alpha1
kind: FlexPlugin
metadata:
  name: hello
spec:
  type: utility
  image: busybox:1.36
  command: ["sh", "-c", "echo hello from kind"]
---
apiVersion: flexcore.io/v1alpha1
kind: FlexPipeline
metadata:
  name: hello
spec:
  steps:
    - name: say
      plugin: hello
EOF
for _ in $(seq 1 90); do
  phase="$("$kubectl" -n flexcore-e2e get flexpipeline hello -o jsonpath='{.status.lastRun.phase}')"
  [[ -n "$phase" ]] && break
  sleep 2
done
echo "hello pipeline: ${phase:-no run finished in 180 s}"
$delete && "$kind" delete cluster --name "$cluster"
[[ "$phase" == "Succeeded" ]]
