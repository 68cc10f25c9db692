#!/usr/bin/env bash
# Installs the Debian packages the network-namespace lab needs, only those missing. CI (.ci/run) calls it as
# root. `apt-get update` runs only when an install fails: on a machine whose package lists are fresh enough
# nothing touches the network.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# package -> a command it provides (how we tell whether it is installed)
declare -A provides=(
  [haproxy]=haproxy
  [tshark]=tshark
  [iptables]=iptables
  [nftables]=nft
  [iproute2]=ip
  [util-linux]=setpriv
)

missing=()
for pkg in "${!provides[@]}"; do
  if ! command -v "${provides[$pkg]}" >/dev/null 2>&1 && ! [ -x "/usr/sbin/${provides[$pkg]}" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present (${!provides[*]})"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

# tshark asks whether non-root users may capture; answer "no" without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections

install() { apt-get install -y --no-install-recommends "${missing[@]}"; }
echo "install-deps: installing ${missing[*]}"
if ! install; then
  echo "install-deps: install failed; refreshing package lists and retrying"
  apt-get update
  install
fi
