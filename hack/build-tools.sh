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
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# FLEXCORE_TOOLS_DIR points at another copy of hack/tools (tests of this script use it).
tools="${FLEXCORE_TOOLS_DIR:-$here/tools}"
kube_version="v1.34.10"
# Bump when the build recipe changes, so old caches are not reused.
recipe=2

node=false
if [[ "${1:-}" == "--node" ]]; then
  node=true
  shift
fi
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
if $node; then
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
  echo "error: Go (1.24 or newer) is required to build the local control plane but 'go' is not on PATH." >&2
  echo "       Install Go from https://go.dev/dl/ or your package manager, then run this again." >&2
  exit 3
fi

mkdir -p "$bin"
log="$(dirname "$bin")/build.log"
: > "$log"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0

stamp() {
  local major minor
  major="$(echo "$kube_version" | cut -d. -f1 | tr -d v)"
  minor="$(echo "$kube_version" | cut -d. -f2)"
  local flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=2025-01-01T00:00:00Z"
  done
  echo "-s -w$flags"
}

build() { # name module-dir package [ldflags]
  local name="$1" dir="$2" pkg="$3" ldflags="${4:--s -w}"
  [[ -x "$bin/$name" ]] && return 0
  local start=$SECONDS
  echo "==> building $name ($pkg) ..." >&2
  if ! (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg") >>"$log" 2>&1; then
    echo "error: building $name failed; see the build log: $log" >&2
    tail -n 20 "$log" >&2
    exit 4
  fi
  mv "$bin/$name.tmp" "$bin/$name"
  echo "    $name built in $((SECONDS - start)) s" >&2
}

total=$SECONDS
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
