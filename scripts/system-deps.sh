#!/usr/bin/env bash
# Installs, idempotently, the Debian packages that tests need. Nothing is installed by hand.
# Packages are added here as the subsystems that need them land (mosquitto, chromium, iproute2).
# TESSERA_SYSTEM_PACKAGES adds more (space-separated); a package already installed is skipped.
set -euo pipefail

# The dashboard's end-to-end tests (test/web/) drive Debian's Chromium with playwright-core;
# no browser is downloaded. fonts-liberation gives its screenshots readable text.
web_packages="chromium fonts-liberation"
# The MQTT bridge's tests (test/mapreduce/mqtt/) start a real Mosquitto broker on an ephemeral
# port with their own config (test/helpers/mosquitto.ts); the Debian service is not used.
mqtt_packages="mosquitto"
# The partition tests (test/partition/) cut links between network namespaces with nftables rules
# (test/helpers/netns.ts); `ip` comes from iproute2.
partition_packages="iproute2 nftables"

needed=()
for pkg in $web_packages $mqtt_packages $partition_packages ${TESSERA_SYSTEM_PACKAGES:-}; do
  case " ${needed[*]:-} " in *" $pkg "*) continue ;; esac
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing system packages: ${needed[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}"
fi
