#!/usr/bin/env bash
# Installs what kube-dlp needs on a fresh Debian/Ubuntu machine, and nothing
# when it is already there: Debian packages (the Vectorscan library for the
# native engine, tools the tests drive for real) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs=()
want() { dpkg -s "$1" >/dev/null 2>&1 || need_debs+=("$1"); }
# libhs, the native scan engine. On x86_64 Intel's Hyperscan: Debian 12's
# Vectorscan 5.4.9 returns alignment-dependent results on AVX-512 machines
# (a match is found or missed depending on the buffer's address; see
# proxy/native/ARCH.md). Elsewhere Vectorscan, the portable fork. The two
# packages conflict, so a machine that has one keeps it only where it is the
# right one.
if [ "$(uname -m)" = "x86_64" ]; then
  libhs_pkg=libhyperscan-dev; other_libhs=libvectorscan-dev
else
  libhs_pkg=libvectorscan-dev; other_libhs=libhyperscan-dev
fi
want "$libhs_pkg"
want pkg-config          # finds libhs for node-gyp
want g++
want make
want python3             # node-gyp
want curl                # demo and tests use a real HTTP client
want openssl             # test certificates
want iptables            # transparent capture tests
want iproute2            # network namespaces as test pods
want wrk                 # proxy benchmark
want prometheus          # dashboard and alert tests against a real Prometheus
# `kube-dlp report --format pdf` (headless Chromium) and its test (pdftoppm);
# developer machines and CI only: the sidecar/operator image never needs them.
want chromium
want poppler-utils
if [ "${#need_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "kube-dlp: missing Debian packages: ${need_debs[*]} (run as root or install them)" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "kube-dlp: installing Debian packages: ${need_debs[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  if dpkg -s "$other_libhs" >/dev/null 2>&1 && [[ " ${need_debs[*]} " == *" $libhs_pkg "* ]]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 remove -y -qq "$other_libhs" >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
  # The Debian prometheus package may start a system service on :9090; the
  # tests run their own instance on a free port, so it is left alone.
fi

# Native builds (re2, our addon) need Node's headers. node-gyp downloads them
# by default, which fails offline; point it at the ones installed with node.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

# npm dependencies: reinstall when package.json or the lock file changed.
stamp=node_modules/.kube-dlp-install-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  echo "kube-dlp: installing npm dependencies"
  npm install --no-audit --no-fund
  touch "$stamp"
fi

# npm 11 may skip install scripts it was not told to allow: check the native
# pieces really built instead of trusting the exit code.
if [ ! -f node_modules/re2/build/Release/re2.node ]; then
  echo "kube-dlp: building re2"
  (cd node_modules/re2 && npx --no-install node-gyp rebuild -j 2 >/dev/null)
fi
addon=proxy/native/build/Release/kube_dlp_hs.node
libhs_stamp=proxy/native/build/libhs-version
libhs_version="$(pkg-config --modversion libhs 2>/dev/null || echo none) $(pkg-config --variable=libdir libhs 2>/dev/null)"
if [ ! -f "$addon" ] || [ -n "$(find proxy/native/src proxy/native/binding.gyp -newer "$addon" 2>/dev/null)" ] \
   || [ "$(cat "$libhs_stamp" 2>/dev/null)" != "$libhs_version" ]; then
  echo "kube-dlp: building the Vectorscan addon"
  if (cd proxy/native && npx --no-install node-gyp rebuild -j 2 >/dev/null); then
    echo "$libhs_version" > "$libhs_stamp"
  else
    node proxy/native/report-build-failure.js
  fi
fi
