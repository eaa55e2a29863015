#!/usr/bin/env bash
# Makes sure a User-Mode Linux kernel boots on this host, for the kernel suite, the demo
# and the benchmarks. Debian 12's UML (6.1) panics at its first process on hosts whose
# CPUs have AVX-512 or AMX ("ptrace set fp regs failed, errno = 14": it restores the FPU
# state with a buffer smaller than the host's XSAVE area). Then, in this order:
#  1. the same kernel with scripts/uml/xstate-shim.c preloaded, which makes those ptrace
#     calls with the whole XSAVE area (the kernel every test was written against);
#  2. a newer UML unpacked from Debian's unstable archive, with the C library of Debian's
#     stable release beside it (it needs glibc >= 2.38), its interpreter pointed there
#     with patchelf.
# Either goes into .cache/uml as linux.uml plus a modules/ directory; test/harness/uml.ts
# uses it when it exists. The system's packages and apt configuration stay as they are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/uml"

# Boots a kernel with an init that leaves a mark on the host filesystem; 0 when it did.
boots() {
  local bin=$1 probe
  probe=$(mktemp -d /tmp/kube-ipvs-uml-probe-XXXXXX)
  printf '#!/bin/sh\n: > %s/ok\nhalt -f\n' "$probe" > "$probe/init"
  chmod +x "$probe/init"
  # A subshell, so the shell's own "Aborted" notice for a panicking kernel stays quiet.
  (timeout --kill-after=5 60 "$bin" mem=256M "uml_dir=$probe/uml" rootfstype=hostfs rootflags=/ \
    rw "init=$probe/init" con=null con0=fd:0,fd:1 </dev/null >"$probe/console" 2>&1; true) \
    >/dev/null 2>&1 || true
  local ok=1
  [ -e "$probe/ok" ] && ok=0
  rm -rf "$probe"
  return $ok
}

if [ -x "$cache/linux.uml" ] && boots "$cache/linux.uml"; then exit 0; fi
if boots /usr/bin/linux.uml; then
  rm -rf "$cache"
  exit 0
fi

rm -rf "$cache"
mkdir -p "$cache"
if cc -O2 -shared -fPIC -o "$cache/xstate-shim.so" "$root/scripts/uml/xstate-shim.c" -ldl; then
  cat > "$cache/linux.uml" <<WRAP
#!/bin/sh
# Debian 12's UML with the XSAVE shim (scripts/uml-kernel.sh).
LD_PRELOAD=$cache/xstate-shim.so exec /usr/bin/linux.uml "\$@"
WRAP
  chmod +x "$cache/linux.uml"
  ln -s /usr/lib/uml/modules "$cache/modules"
  if boots "$cache/linux.uml"; then
    echo "kube-ipvs: /usr/bin/linux.uml needs the XSAVE shim on this host: using $cache/linux.uml" >&2
    exit 0
  fi
fi

echo "kube-ipvs: /usr/bin/linux.uml does not boot on this host, even with the shim; unpacking a newer UML into $cache" >&2
command -v patchelf >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patchelf >&2
}
# The mirror this machine already uses, so nothing else is named here.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(http[^[:space:]]*\/debian\)[[:space:]].*/\1/p' \
  /etc/apt/sources.list 2>/dev/null | head -n 1)
if [ -z "$mirror" ]; then
  echo "kube-ipvs: no Debian mirror found in the apt sources; cannot fetch a newer UML" >&2
  exit 1
fi
work="$root/.cache/uml-apt"
rm -rf "$work" "$cache"
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/cache" "$cache"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$work/sources.list" <<LIST
deb [signed-by=$keyring] $mirror unstable main
deb [signed-by=$keyring] $mirror stable main
LIST
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/none"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq download user-mode-linux/unstable libc6/stable >&2)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
lib="$cache/root/usr/lib/x86_64-linux-gnu"
cp "$cache/root/usr/bin/linux.uml" "$cache/linux.uml"
patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$cache/linux.uml"
ln -s root/usr/lib/uml/modules "$cache/modules"
rm -rf "$work"
if ! boots "$cache/linux.uml"; then
  echo "kube-ipvs: the UML unpacked into $cache does not boot either" >&2
  exit 1
fi
echo "kube-ipvs: using $cache/linux.uml ($(ls "$cache/root/usr/lib/uml/modules"))" >&2
