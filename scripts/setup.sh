#!/bin/sh
# Installs everything tskube needs on a Debian machine (run as root): the host tools the components drive, the
# programs the process runtime maps images to, etcd for the etcd backend, and the project's own Node (npm ci).
set -eu
cd "$(dirname "$0")/.."
# iputils-ping and bind9-dnsutils (ping, nslookup, dig) are for `tskube exec <node> -- ...`; dnsperf for `npm run bench dns`.
PACKAGES="iptables nftables conntrack iproute2 util-linux procps curl openssl etcd-server nginx-light busybox-static tini iputils-ping bind9-dnsutils dnsperf bubblewrap libseccomp2"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
fi
# The packaged nginx/etcd services are not used: tskube starts its own per pod and per test.
npm ci --no-audit --no-fund
node_modules/.bin/node --version
