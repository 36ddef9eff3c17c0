#!/usr/bin/env bash
# Proves the README's `npm ci && npm test` on a machine with nothing running: a fresh clone of the committed HEAD,
# `npm ci`, then `npm test` in a network namespace of its own, whose loopback has nothing on 5432 or 4222, so the
# run must start its own PostgreSQL and NATS. The machine's own services are never stopped.
# Needs root (for the namespace) and, since the namespace has no network, Chromium installed beforehand.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/plugboard"
cd "$work/plugboard"
echo "fresh clone of $(git rev-parse --short HEAD) in $work/plugboard"
npm ci --no-audit --no-fund
unshare --net bash -c '
  ip link set lo up
  for port in 5432 4222; do
    if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "something answers on $port inside the namespace" >&2; exit 1; fi
  done
  CI=true NX_DAEMON=false NX_NO_CLOUD=true npm test'
echo "npm ci && npm test passed on a fresh clone with nothing running"
