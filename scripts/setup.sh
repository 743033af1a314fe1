#!/usr/bin/env bash
# Install everything lvsprov's tests need on a fresh Debian machine, then the npm dependencies.
# Run as root (the test labs build network namespaces and boot a qemu guest).
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenSSH server and client: the lab hosts' sshd and the raw-SSH floor of the benchmark.
# iproute2, util-linux, procps: namespaces, veths, bridges, nsenter. arptables, ipvsadm: what the
# roles drive. busybox-static: the test page's web server. curl: the client side of the tests.
# qemu-system-x86, kmod, cpio, linux kernel package (fetched on demand): the real-kernel lab.
# (src/lab/qemu/REQUIREMENTS.md says why each qemu-lab package is there.)
# iputils-arping: verify's ARP check (busybox arping is the fallback). nftables: verify's netns test
# splits the VIP's traffic 1:2 by DNAT on the router, since this kernel has no IPVS. sudo: the
# `become` test logs in as a non-root user and runs the host scripts through `sudo -n`.
# systemd: its systemd-analyze verifies the unit files lvsprov generates (test/unit/template-formats).
# librsvg2-bin (rsvg-convert), fonts-liberation2, fonts-dejavu-core: the graph test rasterises
# lvsprov graph's SVG and measures each card's text as rsvg draws it in Liberation Sans
# (Helvetica's widths, as Graphviz measured them) and in DejaVu Sans (wider: what Pango picks for
# Helvetica on Debian even with Liberation installed).
# tmux: the terminal tests drive lvsprov in a real terminal (progress display, NO_COLOR).
# strace: the read script's file prefetch is proven by the processes it starts (test/unit/file-prefetch).
# keepalived: director pairs (VRRP) and health checks; its `keepalived -t` judges every config lvsprov
# generates (test/unit/keepalived-config), and the lab's directors run it.
# memcached, php-cgi, php-memcached: lvs.sessions; the lab's real servers keep PHP sessions in
# memcached (test/integration/sessions, the DR lab).
packages=(
  openssh-server openssh-client iproute2 util-linux procps arptables ipvsadm busybox-static curl
  iputils-ping qemu-system-x86 kmod cpio gzip passwd iputils-arping nftables sudo librsvg2-bin
  fonts-liberation2 fonts-dejavu-core systemd tmux keepalived strace memcached php-cgi php-memcached
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian ipvsadm and openssh-server packages start daemons on install on some images; the
# tests start their own sshd inside namespaces and need none on the machine itself.
# The dependencies whose install scripts run (ssh2's crypto addon, cpu-features, esbuild's binary
# check) are package.json's allowScripts, which npm 11 asks for and npm 10 ignores.
npm ci --no-audit --no-fund
# Put `lvsprov` on the PATH, as every example in the README and the CLI's hints print it: npm links
# this checkout into its global prefix (bin/lvsprov -> this folder), so a rebuild is seen at once.
# npm ci above built dist/ (prepare); linking runs no script: npm 11 warns that a linked folder's
# `prepare` is not covered by allowScripts (npm 12 skips it), and it would only build again (20 s).
npm install -g --ignore-scripts --no-audit --no-fund .
echo "lvsprov $(lvsprov --version) is $(command -v lvsprov)"

# The real-kernel lab (`lvsprov lab up`, test/e2e) boots Debian's kernel package: fetch, unpack and
# depmod it into the cache now ($LVSPROV_CACHE, default ~/.cache/lvsprov; cache that dir in CI).
# apt must know linux-image-amd64's current image, so its lists are refreshed when they do not.
if ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]'; then apt-get update -q; fi
node --input-type=module -e "const { ensureKernel } = await import('./dist/lab/qemu/index.js'); const k = await ensureKernel({ log: console.log }); console.log('kernel ' + k.release + ' in ' + k.root);"
