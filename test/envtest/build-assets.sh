#!/usr/bin/env bash
# Prints (last line of stdout) a folder holding `kube-apiserver` and `etcd`
# for the integration tests; all progress goes to stderr. Typical use:
#   export KUBEBUILDER_ASSETS="$(test/envtest/build-assets.sh)"
#
# Order of preference:
#  1. $KUBEBUILDER_ASSETS, if set: used as is, nothing is built.
#  2. The build cache ${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/k8s-assets/<k8s>-<etcd>/,
#     complete only once its stamp file exists (written last), so a build that
#     was killed half-way is redone instead of being trusted.
#  3. A build from source of the wrapper modules in test/envtest/modules/, whose
#     committed go.mod/go.sum pin every dependency (see gen-*-module.sh).
# Binaries never land in the repository.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APISERVER_MODULE="$HERE/modules/kube-apiserver"
ETCD_MODULE="$HERE/modules/etcd"
STAMP_NAME=".kube-dlp-assets-complete"

log() { echo "build-assets: $*" >&2; }

has_binaries() {
  [[ -x "$1/kube-apiserver" && -x "$1/etcd" ]]
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if has_binaries "$KUBEBUILDER_ASSETS"; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS does not contain executable kube-apiserver and etcd"
  exit 2
fi

# Versions come from the committed wrapper modules, so there is one place to
# bump them. go.mod is go-formatted, hence the simple pattern.
module_version() { # <go.mod> <module path>
  sed -n "s#^[[:space:]]*$2 \(v[^[:space:]]*\).*#\1#p" "$1" | head -n 1
}
K8S_VERSION="$(module_version "$APISERVER_MODULE/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(module_version "$ETCD_MODULE/go.mod" go.etcd.io/etcd/server/v3)"
if [[ -z "$K8S_VERSION" || -z "$ETCD_VERSION" ]]; then
  log "cannot read versions from $APISERVER_MODULE/go.mod and $ETCD_MODULE/go.mod"
  exit 1
fi

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/k8s-assets"
ASSETS_DIR="$CACHE_ROOT/$K8S_VERSION-$ETCD_VERSION"

if [[ -f "$ASSETS_DIR/$STAMP_NAME" ]] && has_binaries "$ASSETS_DIR"; then
  log "cached: $ASSETS_DIR"
  echo "$ASSETS_DIR"
  exit 0
fi

# The whole go.mod is checked rather than a fixed number because the minimum
# follows the Kubernetes release (v1.37 needs Go 1.26). Go >= 1.21 fetches a
# newer toolchain from the module proxy by itself when GOTOOLCHAIN allows it.
REQUIRED_GO="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$APISERVER_MODULE/go.mod")"
explain_go_install() {
  cat >&2 <<EOF
build-assets: $1

To run the integration tests, either
  * install Go >= $REQUIRED_GO (or any Go >= 1.21 with GOTOOLCHAIN=auto, the
    default, which downloads go$REQUIRED_GO from the Go module proxy):
      - the tarball from https://go.dev/dl/ unpacked into /usr/local/go, with
        /usr/local/go/bin on PATH;
      - NOT 'apt-get install golang' on Debian 12: it installs Go 1.19, too old;
    then rerun; the first build takes a while and is cached in
    $CACHE_ROOT;
  * or point KUBEBUILDER_ASSETS at a folder that already holds kube-apiserver
    ($K8S_VERSION or close) and etcd ($ETCD_VERSION or any 3.5+), e.g. one made by
    setup-envtest.
EOF
}
if ! command -v go >/dev/null 2>&1; then
  explain_go_install "Go is not installed and KUBEBUILDER_ASSETS is not set."
  exit 3
fi
GO_FOUND="$(go env GOVERSION 2>/dev/null || true)"
# go1.19.8 -> 1 19; anything unparsable is treated as too old.
if [[ ! "$GO_FOUND" =~ ^go1\.([0-9]+) ]] || (( BASH_REMATCH[1] < 21 )); then
  explain_go_install "found ${GO_FOUND:-an unknown Go version}, which cannot build Go $REQUIRED_GO modules."
  exit 3
fi

mkdir -p "$CACHE_ROOT"
# Two test runs (a developer and CI on the same machine) must not build into
# the same folder at once; the second waits and then finds the stamp.
exec 9>"$CACHE_ROOT/.lock"
if command -v flock >/dev/null 2>&1; then
  log "waiting for the build lock $CACHE_ROOT/.lock"
  flock 9
fi
if [[ -f "$ASSETS_DIR/$STAMP_NAME" ]] && has_binaries "$ASSETS_DIR"; then
  log "built by a concurrent run: $ASSETS_DIR"
  echo "$ASSETS_DIR"
  exit 0
fi

WORK_DIR="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT

# -mod=readonly: the committed go.sum must be complete; a silent update here
# would hide a stale wrapper module. -p 2 and nice: the machine is shared.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"
GO_BUILD=(nice -n 10 go build -p 2 -trimpath)

# The module proxy does not tell which commit a tag is, so gitCommit stays
# empty and gitTreeState says "archive" as in Kubernetes' own tarball builds;
# buildDate is the tag's publication time, keeping rebuilds reproducible.
K8S_INFO_TIME="$(cd "$APISERVER_MODULE" && go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
[[ "$K8S_VERSION" =~ ^v([0-9]+)\.([0-9]+)\. ]]
K8S_MAJOR="${BASH_REMATCH[1]}"
K8S_MINOR="${BASH_REMATCH[2]}"
VERSION_PKG=k8s.io/component-base/version
APISERVER_LDFLAGS="-s -w \
 -X $VERSION_PKG.gitVersion=$K8S_VERSION \
 -X $VERSION_PKG.gitMajor=$K8S_MAJOR \
 -X $VERSION_PKG.gitMinor=$K8S_MINOR \
 -X $VERSION_PKG.gitCommit= \
 -X $VERSION_PKG.gitTreeState=archive \
 -X $VERSION_PKG.buildDate=${K8S_INFO_TIME:-1970-01-01T00:00:00Z}"
ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"

SECONDS=0
log "building kube-apiserver $K8S_VERSION (first build: tens of minutes on 2 cores)"
(cd "$APISERVER_MODULE" && "${GO_BUILD[@]}" -ldflags "$APISERVER_LDFLAGS" \
  -o "$WORK_DIR/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
log "kube-apiserver built after ${SECONDS}s; building etcd $ETCD_VERSION"
(cd "$ETCD_MODULE" && "${GO_BUILD[@]}" -ldflags "$ETCD_LDFLAGS" \
  -o "$WORK_DIR/etcd" go.etcd.io/etcd/server/v3)
log "etcd built after ${SECONDS}s"

"$WORK_DIR/kube-apiserver" --version >&2
"$WORK_DIR/etcd" --version >&2

rm -rf "$ASSETS_DIR"
mkdir -p "$ASSETS_DIR"
mv "$WORK_DIR/kube-apiserver" "$WORK_DIR/etcd" "$ASSETS_DIR/"
printf 'kube-apiserver %s\netcd %s\nbuilt %s in %ss\n' \
  "$K8S_VERSION" "$ETCD_VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SECONDS" \
  > "$ASSETS_DIR/$STAMP_NAME"
log "ready: $ASSETS_DIR"
echo "$ASSETS_DIR"
