#!/usr/bin/env bash
# Builds the project's image from its real Dockerfile, without a registry,
# and prints (last line of stdout) the path of an OCI archive holding it; the
# image's name is in the file beside it (<archive>.ref). Progress on stderr.
#
#  1. NODE_IMAGE, the Dockerfile's base, is assembled locally: a Debian
#     bookworm minbase (mmdebstrap) plus this machine's Node, npm and Node
#     headers at /usr/local, where the official node images keep them.
#  2. `buildah bud` runs the Dockerfile on a build context holding only the
#     files git knows (tracked or not ignored), so local build outputs
#     (dist/, proxy/native/build/) never leak into the image.
#  3. The result is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/images/
#     by a hash of the context, the Node version and this script.
#
# Registries (npm, Debian) may sit behind a TLS-intercepting proxy whose CA
# only this machine trusts: the bundle named by KDLP_BUILD_CA_BUNDLE (default
# $NODE_EXTRA_CA_CERTS) is mounted read-only into the build's RUN steps and
# named by the NODE_EXTRA_CA_CERTS build argument; it is never copied into
# the image.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
log() { echo "build-image: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in mmdebstrap buildah node git sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install mmdebstrap buildah; see test/node/README.md)"
done
[[ "$(id -u)" == 0 ]] || die "needs root (mmdebstrap --mode=root, buildah with vfs storage)"

NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_PREFIX="$(dirname "$(dirname "$NODE_BIN")")"
NODE_VERSION="$(node --version)"
NPM_DIR="$NODE_PREFIX/lib/node_modules/npm"
[[ -f "$NODE_PREFIX/include/node/node_api.h" ]] || die "Node headers not found under $NODE_PREFIX/include/node"
[[ -d "$NPM_DIR" ]] || die "npm not found at $NPM_DIR"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kube-dlp/images"
STORE="$CACHE/buildah"
BUILDAH=(buildah --root "$STORE/root" --runroot "$STORE/run" --storage-driver vfs)
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
log "waiting for the build lock $CACHE/.lock"
flock 9

WORK="$(mktemp -d "$CACHE/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# The build context: exactly the paths the Dockerfile copies.
CONTEXT="$WORK/context"
mkdir -p "$CONTEXT"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- \
    Dockerfile package.json package-lock.json tsconfig.json bin cli operator proxy \
  | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf -) | tar -C "$CONTEXT" -xf -

# Bump when the way NODE_IMAGE is assembled below changes.
BASE_RECIPE=1
BASE_HASH="$(printf '%s %s %s\n' "$NODE_VERSION" "$(sha256sum "$NODE_BIN" | cut -c1-64)" "$BASE_RECIPE" | sha256sum | cut -c1-16)"
CONTEXT_HASH="$( (cd "$CONTEXT" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$BASE_HASH") | sha256sum | cut -c1-16)"
TAG="0.1.0-$CONTEXT_HASH"
REF="kube-dlp:$TAG"
ARCHIVE="$CACHE/kube-dlp-$CONTEXT_HASH.oci.tar"
if [[ -f "$ARCHIVE" && -f "$ARCHIVE.ref" ]]; then
  log "cached: $ARCHIVE ($(cat "$ARCHIVE.ref"))"
  echo "$ARCHIVE"
  exit 0
fi

SECONDS=0
BASE_REF="localhost/kube-dlp-node-base:$BASE_HASH"
if ! "${BUILDAH[@]}" inspect --type image "$BASE_REF" >/dev/null 2>&1; then
  log "assembling NODE_IMAGE $BASE_REF: Debian bookworm minbase + Node $NODE_VERSION"
  ROOTFS="$WORK/rootfs"
  # libstdc++6: Node links it dynamically; nothing else beyond minbase.
  nice mmdebstrap --quiet --mode=root --variant=minbase --include=libstdc++6 \
    bookworm "$ROOTFS" http://deb.debian.org/debian >&2
  install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
  mkdir -p "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/usr/local/include"
  cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
  cp -a "$NODE_PREFIX/include/node" "$ROOTFS/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  tar -C "$ROOTFS" -cf "$WORK/rootfs.tar" .
  rm -rf "$ROOTFS"
  c="$("${BUILDAH[@]}" from scratch)"
  "${BUILDAH[@]}" add "$c" "$WORK/rootfs.tar" / >/dev/null
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$c"
  "${BUILDAH[@]}" commit --quiet "$c" "$BASE_REF" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null
  rm -f "$WORK/rootfs.tar"
  log "NODE_IMAGE ready after ${SECONDS}s"
fi

CA_ARGS=()
CA_BUNDLE="${KDLP_BUILD_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-}}"
if [[ -n "$CA_BUNDLE" ]]; then
  [[ -f "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE does not exist"
  CA_ARGS=(-v "$CA_BUNDLE:/run/kube-dlp-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/kube-dlp-build-ca.crt)
fi
log "building $REF from the Dockerfile (NODE_IMAGE=$BASE_REF)"
# No layer cache: vfs keeps a full copy of the root filesystem per cached
# layer (tens of GB after a few source changes, which filled this machine's
# disk), so each build reruns `npm ci` and the native builds (a few minutes)
# and leaves nothing behind but the archive and the NODE_IMAGE base.
nice "${BUILDAH[@]}" bud --isolation chroot --pull-never --layers=false --rm \
  --build-arg "NODE_IMAGE=$BASE_REF" "${CA_ARGS[@]}" \
  -t "localhost/$REF" -f "$CONTEXT/Dockerfile" "$CONTEXT" >&2
rm -f "$ARCHIVE.partial"
"${BUILDAH[@]}" push --quiet "localhost/$REF" "oci-archive:$ARCHIVE.partial:$REF" >&2
# The final image lives on in the archive; the store keeps only the base.
"${BUILDAH[@]}" rmi "localhost/$REF" >/dev/null 2>&1 || true
"${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true
"${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
mv "$ARCHIVE.partial" "$ARCHIVE"
echo "$REF" > "$ARCHIVE.ref"
# Archives of earlier sources are never used again.
find "$CACHE" -maxdepth 1 -name 'kube-dlp-*.oci.tar*' ! -name "kube-dlp-$CONTEXT_HASH.oci.tar*" -delete
log "built $REF in ${SECONDS}s: $ARCHIVE"
echo "$ARCHIVE"
