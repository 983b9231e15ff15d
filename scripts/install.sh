#!/usr/bin/env bash
# Installs what Fulcrum needs on Debian 12: HAProxy; with --test, also the servers the test suite starts itself
# (MariaDB, PostgreSQL, OpenLDAP, Redis, openssl for test certificates, Pebble as the ACME server, prometheus for
# promtool, chromium for the dashboard test, iproute2 for IPv6 loopback addresses and the nodes' network namespaces,
# keepalived for the HA pairs); with --agent, keepalived (what `fulcrum agent` supervises); with --bench, also what the
# benchmarks compare against (nginx with its stream module for TCP, wrk). Then the npm dependencies (which also builds
# the TypeScript).
# Safe to run again: it installs only what is missing. The tests never use the system services these packages bring.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(haproxy ca-certificates)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(openssl mariadb-server postgresql slapd ldap-utils redis-server pebble prometheus chromium iproute2 keepalived) ;;
    --agent) packages+=(keepalived) ;;
    --bench) packages+=(nginx-light libnginx-mod-stream wrk) ;;
    *) echo "usage: $0 [--test] [--agent] [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci runs better-sqlite3's install script (approved in package.json "allowScripts"), then scripts/check-native.js,
# which fails the install if the native module does not load, and the TypeScript build.
npm ci --no-audit --no-fund
