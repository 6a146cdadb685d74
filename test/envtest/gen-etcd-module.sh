#!/usr/bin/env bash
# Regenerates test/envtest/modules/etcd/go.mod and go.sum.
#
# etcd lives in its own wrapper module so that its dependency versions can
# never raise (or be raised by) those of kube-apiserver: both pin grpc, otel,
# prometheus etc. and minimal version selection would otherwise mix them.
# The etcd server's main package is the root of go.etcd.io/etcd/server/v3.
#
# Usage: test/envtest/gen-etcd-module.sh [etcd-version]   (default v3.7.3)
set -euo pipefail

ETCD_VERSION="${1:-v3.7.3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULE_DIR="$HERE/modules/etcd"

UPSTREAM_GOMOD="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
if [[ -z "$UPSTREAM_GOMOD" || ! -f "$UPSTREAM_GOMOD" ]]; then
  echo "gen-etcd-module: could not download go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  exit 1
fi
GO_DIRECTIVE="$(go mod edit -print "$UPSTREAM_GOMOD" | sed -n 's/^go \([0-9.]*\)$/\1/p')"

mkdir -p "$MODULE_DIR"
cd "$MODULE_DIR"
rm -f go.mod go.sum
go mod init kube-dlp.test/envtest/etcd >/dev/null 2>&1
go mod edit "-go=$GO_DIRECTIVE" \
  "-require=go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
  "-tool=go.etcd.io/etcd/server/v3"
GOFLAGS=-mod=mod nice go mod tidy
echo "gen-etcd-module: go.etcd.io/etcd/server/v3 $ETCD_VERSION" >&2
