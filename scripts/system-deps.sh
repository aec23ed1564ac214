#!/usr/bin/env bash
# Installs, idempotently, the Debian packages that tests need. Nothing is installed by hand.
# Packages are added here as the subsystems that need them land (mosquitto, chromium, iproute2).
set -euo pipefail
needed=()
for pkg in ${TESSERA_SYSTEM_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing system packages: ${needed[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}"
fi
