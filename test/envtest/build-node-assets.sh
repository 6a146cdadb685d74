#!/usr/bin/env bash
# Prints (last line of stdout) a folder holding the node's binaries for the
# e2e (test/node): kubelet, kube-scheduler, kube-controller-manager, kube-proxy, kubectl
# built from the same k8s.io/kubernetes release as kube-apiserver, `helm` from
# helm.sh/helm/v4 (modules/helm), and a static `pause` built from
# test/node/pause.c. Progress goes to stderr.
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/node-assets/<k8s>-<helm>-<pause hash>/,
# complete only once its stamp file exists (written last), as in
# build-assets.sh. $KDLP_NODE_ASSETS, if set, is used as is.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE_MODULE="$HERE/modules/kube-node"
HELM_MODULE="$HERE/modules/helm"
PAUSE_SRC="$ROOT/test/node/pause.c"
STAMP_NAME=".kube-dlp-node-assets-complete"
BINARIES=(kubelet kube-scheduler kube-controller-manager kube-proxy kubectl helm pause)

log() { echo "build-node-assets: $*" >&2; }
has_binaries() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}

if [[ -n "${KDLP_NODE_ASSETS:-}" ]]; then
  if has_binaries "$KDLP_NODE_ASSETS"; then echo "$KDLP_NODE_ASSETS"; exit 0; fi
  log "KDLP_NODE_ASSETS=$KDLP_NODE_ASSETS lacks one of: ${BINARIES[*]}"
  exit 2
fi

K8S_VERSION="$(sed -n 's#^[[:space:]]*k8s.io/kubernetes \(v[^[:space:]]*\).*#\1#p' "$NODE_MODULE/go.mod" | head -n 1)"
[[ -n "$K8S_VERSION" ]] || { log "cannot read the k8s.io/kubernetes version from $NODE_MODULE/go.mod"; exit 1; }
HELM_VERSION="$(sed -n 's#^[[:space:]]*helm.sh/helm/v4 \(v[^[:space:]]*\).*#\1#p' "$HELM_MODULE/go.mod" | head -n 1)"
[[ -n "$HELM_VERSION" ]] || { log "cannot read the helm version from $HELM_MODULE/go.mod"; exit 1; }
PAUSE_HASH="$(sha256sum "$PAUSE_SRC" | cut -c1-12)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/node-assets"
ASSETS_DIR="$CACHE_ROOT/$K8S_VERSION-helm-$HELM_VERSION-$PAUSE_HASH"

if [[ -f "$ASSETS_DIR/$STAMP_NAME" ]] && has_binaries "$ASSETS_DIR"; then
  log "cached: $ASSETS_DIR"
  echo "$ASSETS_DIR"
  exit 0
fi
command -v go >/dev/null || { log "Go is needed to build the node binaries (see test/envtest/build-assets.sh for how to install it)"; exit 3; }
command -v gcc >/dev/null || { log "gcc is needed to build the static pause binary (apt-get install gcc libc6-dev)"; exit 3; }

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
log "waiting for the build lock $CACHE_ROOT/.lock"
flock 9
if [[ -f "$ASSETS_DIR/$STAMP_NAME" ]] && has_binaries "$ASSETS_DIR"; then
  echo "$ASSETS_DIR"
  exit 0
fi
WORK_DIR="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"
[[ "$K8S_VERSION" =~ ^v([0-9]+)\.([0-9]+)\. ]]
VERSION_PKG=k8s.io/component-base/version
LDFLAGS="-s -w -X $VERSION_PKG.gitVersion=$K8S_VERSION -X $VERSION_PKG.gitMajor=${BASH_REMATCH[1]} \
 -X $VERSION_PKG.gitMinor=${BASH_REMATCH[2]} -X $VERSION_PKG.gitTreeState=archive"

SECONDS=0
for b in kubelet kube-scheduler kube-controller-manager kube-proxy kubectl; do
  log "building $b $K8S_VERSION"
  (cd "$NODE_MODULE" && nice -n 10 go build -p 2 -trimpath -ldflags "$LDFLAGS" -o "$WORK_DIR/$b" "k8s.io/kubernetes/cmd/$b")
  log "$b built after ${SECONDS}s"
done
log "building helm $HELM_VERSION"
(cd "$HELM_MODULE" && nice -n 10 go build -p 2 -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
  -o "$WORK_DIR/helm" helm.sh/helm/v4/cmd/helm)
log "helm built after ${SECONDS}s"
# The sandbox's pause process: static, so any image-less rootfs runs it.
gcc -static -Os -o "$WORK_DIR/pause" "$PAUSE_SRC"

"$WORK_DIR/kubelet" --version >&2
rm -rf "$ASSETS_DIR"
mkdir -p "$ASSETS_DIR"
mv "${BINARIES[@]/#/$WORK_DIR/}" "$ASSETS_DIR/"
printf 'node binaries %s, helm %s, pause %s, built %s in %ss\n' "$K8S_VERSION" "$HELM_VERSION" "$PAUSE_HASH" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SECONDS" > "$ASSETS_DIR/$STAMP_NAME"
log "ready: $ASSETS_DIR"
echo "$ASSETS_DIR"
