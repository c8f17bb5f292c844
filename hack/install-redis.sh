#!/usr/bin/env bash
# Installs Debian's redis-server binary for the integration tests (hack/services/redis.ts).
# Only the binary is wanted: the package's own service is kept from starting, and stopped if
# it did start. Idempotent and silent when redis-server is already on PATH.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "redis-server is not installed. Install it with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends redis-server" >&2
  echo "or run this script as root: sudo $0" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is not installed and apt-get is not available; install redis-server (Redis >= 6) with your package manager" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t install-redis.XXXXXX.log)"
policy=/usr/sbin/policy-rc.d
created_policy=0

cleanup() {
  if [[ "$created_policy" -eq 1 ]]; then rm -f "$policy"; fi
  rm -f "$log"
}
trap cleanup EXIT

fail() {
  echo "install-redis.sh: $1; output follows:" >&2
  cat "$log" >&2
  exit 1
}

# Keep maintainer scripts from starting the service (invoke-rc.d and deb-systemd-invoke honour it).
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi

# Refresh the package lists only when apt does not know a candidate for redis-server.
if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  apt-get update -qq >>"$log" 2>&1 || fail "apt-get update failed"
fi

apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  redis-server >>"$log" 2>&1 || fail "apt-get install redis-server failed"

# Belt and braces: if the package's service came up anyway, stop it and keep it from booting.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop redis-server.service >/dev/null 2>&1 || true
  systemctl disable redis-server.service >/dev/null 2>&1 || true
elif [[ -s /run/redis/redis-server.pid ]]; then
  kill "$(cat /run/redis/redis-server.pid)" >/dev/null 2>&1 || true
fi

command -v redis-server >/dev/null 2>&1 || fail "redis-server is still not on PATH after the install"
echo "installed $(redis-server --version | cut -d' ' -f1-3)"
