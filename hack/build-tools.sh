#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the pinned Go modules in hack/tools/, into a cache
# outside the repository keyed on those modules' go.sum. Does nothing when the cache is
# complete. Prints progress on stderr and the bin directory on stdout.
#
#   hack/build-tools.sh                   build if missing, print the bin directory
#   hack/build-tools.sh --bin-dir         print the bin directory only (no build)
#   hack/build-tools.sh --node [--bin-dir] the same for the real node: kubelet and kube-proxy
#                                         (hack/tools/node, a module of its own so adding
#                                         them did not invalidate the plane's cache)
#   hack/build-tools.sh --gitops [--bin-dir] the same for the chart and manifest checks
#                                         (hack/tools/gitops): helm, kubeconform, kstatus,
#                                         argo-health, and helm-unittest laid out as a helm
#                                         plugin in ../helm-plugins/unittest beside bin/
#   hack/build-tools.sh --observability [--bin-dir] the same for the metrics, alert and trace
#                                         checks (hack/tools/observability): prometheus,
#                                         promtool, and otelcol (OTLP in, JSON lines out)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# FLEXCORE_TOOLS_DIR points at another copy of hack/tools (tests of this script use it).
tools="${FLEXCORE_TOOLS_DIR:-$here/tools}"
kube_version="v1.34.10"
# Bump when the build recipe changes, so old caches are not reused.
recipe=2

node=false
gitops=false
observability=false
if [[ "${1:-}" == "--node" ]]; then
  node=true
  shift
elif [[ "${1:-}" == "--gitops" ]]; then
  gitops=true
  shift
elif [[ "${1:-}" == "--observability" ]]; then
  observability=true
  shift
fi
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
# Pinned in hack/tools/gitops/go.mod; repeated here for the version stamps.
helm_version="v3.22.0"
unittest_version="1.1.2"
# Pinned in hack/tools/observability/go.mod (module v0.316.0 is Prometheus 3.16.0).
prometheus_version="3.16.0"
if $observability; then
  key="$( { echo "recipe=$recipe $prometheus_version"; cat "$tools/observability/go.sum" "$tools/observability/go.mod"; find "$tools/observability" -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 cat; } | sha256sum | cut -c1-16)"
  bin="$cache_root/observability-tools-$key/bin"
  binaries=(prometheus promtool otelcol)
elif $gitops; then
  # Our own commands (kstatus, argo-health) live in the module, so their sources are in the key.
  key="$( { echo "recipe=$recipe $helm_version $unittest_version"; cat "$tools/gitops/go.sum" "$tools/gitops/go.mod"; find "$tools/gitops" -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 cat; } | sha256sum | cut -c1-16)"
  bin="$cache_root/gitops-tools-$key/bin"
  # The plugin's binary is built after its plugin.yaml is written, so it stands for both.
  binaries=(helm kubeconform kstatus argo-health ../helm-plugins/unittest/untt)
elif $node; then
  key="$( { echo "recipe=$recipe $kube_version"; cat "$tools/node/go.sum" "$tools/node/go.mod" "$here/images/pause/main.go"; } | sha256sum | cut -c1-16)"
  bin="$cache_root/node-tools-$key/bin"
  binaries=(kubelet kube-proxy pause)
else
  key="$( { echo "recipe=$recipe $kube_version"; cat "$tools/kube/go.sum" "$tools/kwok/go.sum" "$tools/kube/go.mod" "$tools/kwok/go.mod"; } | sha256sum | cut -c1-16)"
  bin="$cache_root/tools-$key/bin"
  binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
fi

if [[ "${1:-}" == "--bin-dir" ]]; then
  echo "$bin"
  exit 0
fi

missing=()
for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if $gitops; then # helm v3.22's go.mod says go 1.26.0
    echo "error: Go (1.26 or newer) is required to build the GitOps tools but 'go' is not on PATH." >&2
  else
    echo "error: Go (1.24 or newer) is required to build the local control plane but 'go' is not on PATH." >&2
  fi
  echo "       Install Go from https://go.dev/dl/ or your package manager, then run this again." >&2
  exit 3
fi

mkdir -p "$bin"
log="$(dirname "$bin")/build.log"
: > "$log"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0

stamp() { # [kubernetes-version]
  local version="${1:-$kube_version}" major minor
  major="$(echo "$version" | cut -d. -f1 | tr -d v)"
  minor="$(echo "$version" | cut -d. -f2)"
  local flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=2025-01-01T00:00:00Z"
  done
  echo "-s -w$flags"
}

build() { # name module-dir package [ldflags]; into $out_dir when set, else $bin
  local name="$1" dir="$2" pkg="$3" ldflags="${4:--s -w}" out="${out_dir:-$bin}"
  [[ -x "$out/$name" ]] && return 0
  local start=$SECONDS
  echo "==> building $name ($pkg) ..." >&2
  if ! (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$pkg") >>"$log" 2>&1; then
    echo "error: building $name failed; see the build log: $log" >&2
    tail -n 20 "$log" >&2
    exit 4
  fi
  mv "$out/$name.tmp" "$out/$name"
  echo "    $name built in $((SECONDS - start)) s" >&2
}

# helm's own stamps (its Makefile's LDFLAGS): the version `helm version` prints, and the
# Kubernetes version `helm template` and `helm lint` assume without a cluster (chart
# kubeVersion checks), derived from the client-go it was built with (v0.X.Y -> v1.X.Y).
helm_stamp() {
  local client_go minor flags
  client_go="$(cd "$tools/gitops" && go list -m -f '{{.Version}}' k8s.io/client-go 2>>"$log")"
  if [[ "$client_go" != v0.* ]]; then
    echo "error: cannot read the client-go version of $tools/gitops; see the build log: $log" >&2
    exit 4
  fi
  minor="$(echo "$client_go" | cut -d. -f2)"
  flags="$(stamp "v1.${client_go#v0.}")"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

# helm-unittest as a helm plugin. Its upstream plugin.yaml runs an install hook that downloads
# a release binary; this one points at the binary built here, so nothing is fetched.
write_unittest_plugin() {
  local dir="$1"
  cat > "$dir/plugin.yaml.tmp" <<EOF
name: unittest
version: "$unittest_version"
usage: "unittest for helm charts"
description: "helm-unittest $unittest_version, built by FlexCore's hack/build-tools.sh --gitops"
ignoreFlags: false
platformCommand:
  - command: "\$HELM_PLUGIN_DIR/untt"
EOF
  mv "$dir/plugin.yaml.tmp" "$dir/plugin.yaml"
}

total=$SECONDS
if $observability; then
  echo "Building the observability tools into $bin (first time: about 10 min on 2 cores; log: $log)" >&2
  ld="-s -w"
  for v in Version=$prometheus_version Branch=HEAD Revision=v$prometheus_version BuildUser=flexcore BuildDate=2025-01-01T00:00:00Z; do
    ld+=" -X github.com/prometheus/common/version.$v"
  done
  build promtool "$tools/observability" github.com/prometheus/prometheus/cmd/promtool "$ld"
  build prometheus "$tools/observability" github.com/prometheus/prometheus/cmd/prometheus "$ld"
  build otelcol "$tools/observability" ./otelcol
  echo "==> observability tools built in $((SECONDS - total)) s" >&2
  echo "$bin"
  exit 0
fi
if $gitops; then
  echo "Building the GitOps tools into $bin (first time: about 10 min on 2 cores; log: $log)" >&2
  ld="$(helm_stamp)"
  build helm "$tools/gitops" helm.sh/helm/v3/cmd/helm "$ld -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  build kubeconform "$tools/gitops" github.com/yannh/kubeconform/cmd/kubeconform
  build kstatus "$tools/gitops" ./kstatus
  build argo-health "$tools/gitops" ./argo-health
  plugin="$(dirname "$bin")/helm-plugins/unittest"
  mkdir -p "$plugin"
  write_unittest_plugin "$plugin"
  out_dir="$plugin" build untt "$tools/gitops" github.com/helm-unittest/helm-unittest/cmd/helm-unittest \
    "$ld -X github.com/helm-unittest/helm-unittest/internal/build.version=$unittest_version"
  echo "==> GitOps tools built in $((SECONDS - total)) s" >&2
  echo "$bin"
  exit 0
fi
if $node; then
  echo "Building the real node's kubelet and kube-proxy into $bin (first time: about 10 min on 2 cores; log: $log)" >&2
  ld="$(stamp)"
  for b in kubelet kube-proxy; do
    build "$b" "$tools/node" "k8s.io/kubernetes/cmd/$b" "$ld"
  done
  # The Pod sandbox process (hack/images/pause), packed into an image by hack/build-images.sh.
  build pause "$here/images/pause" .
  echo "==> node binaries built in $((SECONDS - total)) s" >&2
  echo "$bin"
  exit 0
fi
echo "Building the local control plane into $bin (first time: 10-25 min on 2 cores; log: $log)" >&2
build etcd "$tools/kube" go.etcd.io/etcd/server/v3
ld="$(stamp)"
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  build "$b" "$tools/kube" "k8s.io/kubernetes/cmd/$b" "$ld"
done
build kwok "$tools/kwok" sigs.k8s.io/kwok/cmd/kwok
echo "==> control plane built in $((SECONDS - total)) s" >&2
echo "$bin"
