#!/usr/bin/env bash
# Installs what the test plane's real node and the image builds need from Debian: containerd,
# runc, the CNI plugins, iptables and conntrack (the node); buildah, skopeo and debootstrap
# (the images). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/install-debian.sh" \
  containerd=containerd runc=runc /usr/lib/cni/bridge=containernetworking-plugins \
  iptables=iptables conntrack=conntrack \
  buildah=buildah skopeo=skopeo debootstrap=debootstrap
