#!/usr/bin/env bash
# Installs Debian packages the tests and the real node need, only the programs: no package's
# own service is left running. Each argument is COMMAND=PACKAGE; a package is installed only
# when its command is missing. Idempotent and silent when everything is there.
#
#   hack/install-debian.sh redis-server=redis-server
#   hack/install-node.sh (the real node's packages) calls this
set -euo pipefail

missing=()
for pair in "$@"; do
  cmd="${pair%%=*}"
  pkg="${pair#*=}"
  if [[ "$cmd" == /* ]]; then [[ -e "$cmd" ]] || missing+=("$pkg"); else command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]]; then
  echo "missing Debian packages: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "or run this script as root: sudo $0 $*" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages ${missing[*]} and apt-get is not available; install them with your package manager" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t install-debian.XXXXXX.log)"
policy=/usr/sbin/policy-rc.d
created_policy=0

cleanup() {
  if [[ "$created_policy" -eq 1 ]]; then rm -f "$policy"; fi
  rm -f "$log"
}
trap cleanup EXIT

fail() {
  echo "install-debian.sh: $1; output follows:" >&2
  cat "$log" >&2
  exit 1
}

# Keep maintainer scripts from starting services (invoke-rc.d and deb-systemd-invoke honour it).
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi

# Refresh the package lists only when apt does not know a candidate for one of them.
for pkg in "${missing[@]}"; do
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq >>"$log" 2>&1 || fail "apt-get update failed"
    break
  fi
done

echo "==> installing Debian packages: ${missing[*]}" >&2
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >>"$log" 2>&1 || fail "apt-get install ${missing[*]} failed"

# Belt and braces: a service that came up anyway is stopped and kept from booting.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  for pkg in "${missing[@]}"; do
    systemctl stop "$pkg.service" >/dev/null 2>&1 || true
    systemctl disable "$pkg.service" >/dev/null 2>&1 || true
  done
elif [[ -s /run/redis/redis-server.pid ]]; then
  kill "$(cat /run/redis/redis-server.pid)" >/dev/null 2>&1 || true
fi

for pair in "$@"; do
  cmd="${pair%%=*}"
  if [[ "$cmd" == /* ]]; then [[ -e "$cmd" ]]; else command -v "$cmd" >/dev/null 2>&1; fi ||
    fail "$cmd is still missing after the install"
done
