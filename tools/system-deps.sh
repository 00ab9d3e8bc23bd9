#!/usr/bin/env bash
# Debian packages the tests use, installed when missing: nginx (tests/deploy checks and serves the
# console's nginx config), Chromium and a CJK font (the console's end-to-end run). RUNLEVEL=1 keeps the
# nginx package from starting the system nginx on :80. Used by `make test`, `make test-console` and CI.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ "${1:-}" = "--console" ] && { command -v chromium >/dev/null 2>&1 || missing+=(chromium); \
  dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei); }
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — install them (sudo apt-get install ${missing[*]}) and run again" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "${missing[@]}" >/dev/null
