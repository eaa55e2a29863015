#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks need, only those
# that are missing. Needs root and apt-get; says so and fails otherwise.
set -euo pipefail
packages=(user-mode-linux kmod ipvsadm iptables ipset conntrack iproute2 procps unzip)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
here=$(dirname "$0")
if [ ${#missing[@]} -eq 0 ]; then
  exec bash "$here/uml-kernel.sh"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "kube-ipvs: missing system packages (${missing[*]}) and no apt-get here; install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "kube-ipvs: missing system packages (${missing[*]}); run as root so apt-get can install them" >&2
  exit 1
fi
echo "kube-ipvs: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
exec bash "$here/uml-kernel.sh"
