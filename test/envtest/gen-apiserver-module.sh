#!/usr/bin/env bash
# Regenerates test/envtest/modules/kube-apiserver/go.mod and go.sum.
#
# Why this exists: k8s.io/kubernetes cannot be `go install`ed. Its go.mod
# requires every staging module (k8s.io/api, k8s.io/apiserver, ...) at the
# fake version v0.0.0 and points them at ./staging/... with replace
# directives, which only work inside the kubernetes repository. A wrapper
# module that requires k8s.io/kubernetes must therefore replace each staging
# module with its published v0.<minor>.<patch> release. The list of staging
# modules changes between Kubernetes releases, so it is read from the real
# go.mod instead of being typed by hand.
#
# Usage: test/envtest/gen-apiserver-module.sh [k8s-version]   (default v1.37.2)
# Needs Go and the Go module proxy. Run it when bumping the Kubernetes version
# and commit the resulting go.mod and go.sum.
set -euo pipefail

K8S_VERSION="${1:-v1.37.2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULE_DIR="$HERE/modules/kube-apiserver"

if [[ ! "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "gen-apiserver-module: expected a version like v1.37.2, got '$K8S_VERSION'" >&2
  exit 2
fi
# Staging modules are published as v0.<minor>.<patch> alongside v1.<minor>.<patch>.
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

# `go mod download -json` prints one field per line; GoMod is the path of the
# downloaded go.mod file of k8s.io/kubernetes itself.
UPSTREAM_GOMOD="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
if [[ -z "$UPSTREAM_GOMOD" || ! -f "$UPSTREAM_GOMOD" ]]; then
  echo "gen-apiserver-module: could not download k8s.io/kubernetes@$K8S_VERSION" >&2
  exit 1
fi

# `go mod edit -print` normalises the file to one directive per line
# ("replace old => ./staging/..." inside a block is printed with a tab),
# which keeps this parser independent of how upstream formats its go.mod.
UPSTREAM_TEXT="$(go mod edit -print "$UPSTREAM_GOMOD")"
mapfile -t STAGING_MODULES < <(printf '%s\n' "$UPSTREAM_TEXT" \
  | sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./staging/.*$#\2#p')
if (( ${#STAGING_MODULES[@]} == 0 )); then
  echo "gen-apiserver-module: found no ./staging replace directives in $UPSTREAM_GOMOD" >&2
  exit 1
fi
GO_DIRECTIVE="$(printf '%s\n' "$UPSTREAM_TEXT" | sed -n 's/^go \([0-9.]*\)$/\1/p')"
mapfile -t GODEBUGS < <(printf '%s\n' "$UPSTREAM_TEXT" \
  | sed -n 's/^[[:space:]]*\(godebug[[:space:]]\{1,\}\)\{0,1\}\([a-z0-9_]\{1,\}=[^[:space:]]\{1,\}\)$/\2/p')

mkdir -p "$MODULE_DIR"
cd "$MODULE_DIR"
rm -f go.mod go.sum
go mod init kube-dlp.test/envtest/kube-apiserver >/dev/null 2>&1
edits=(
  "-go=$GO_DIRECTIVE"
  "-require=k8s.io/kubernetes@$K8S_VERSION"
  "-tool=k8s.io/kubernetes/cmd/kube-apiserver"
)
for d in "${GODEBUGS[@]}"; do edits+=("-godebug=$d"); done

skipped=()
for m in "${STAGING_MODULES[@]}"; do
  # A few staging modules (sample-controller, sample-cli-plugin) are not
  # served by every proxy. kube-apiserver imports none of them, and module
  # graph pruning means their go.mod is never read, so they can stay at the
  # upstream v0.0.0; `go mod tidy` below fails loudly if that ever changes.
  if go list -m "$m@$STAGING_VERSION" >/dev/null 2>&1; then
    edits+=("-replace=$m=$m@$STAGING_VERSION")
  else
    skipped+=("$m")
  fi
done
go mod edit "${edits[@]}"
GOFLAGS=-mod=mod nice go mod tidy

echo "gen-apiserver-module: k8s.io/kubernetes $K8S_VERSION with ${#STAGING_MODULES[@]} staging modules at $STAGING_VERSION" >&2
if (( ${#skipped[@]} > 0 )); then
  echo "gen-apiserver-module: not served by the module proxy, left unreplaced (not needed by kube-apiserver): ${skipped[*]}" >&2
fi
