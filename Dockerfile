# syntax=docker/dockerfile:1
# kube-dlp: one image, two roles, one entry point (bin/kube-dlp.js):
#   operator   docker run IMAGE operator --leader-elect        (config/manager)
#   sidecar    docker run IMAGE proxy --profile /etc/kube-dlp/profile.yaml
#   init       docker run IMAGE init-iptables ...               (needs NET_ADMIN)
#
# Built from the npm registry and Debian packages only: native code (our
# addon, re2) is compiled here against Debian's libhs and the Node headers
# the node image ships, never downloaded as prebuilt binaries.

ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG TARGETARCH
# Set only when registries sit behind a TLS-intercepting proxy: the path of a
# CA bundle mounted into the build (test/node/build-image.sh does), never
# copied into an image. npm reads it from the environment of RUN steps.
ARG NODE_EXTRA_CA_CERTS
# libhs: Intel's Hyperscan on amd64, where Debian 12's Vectorscan 5.4.9 gives
# alignment-dependent results on AVX-512 CPUs (proxy/native/ARCH.md);
# Vectorscan (libvectorscan5) on every other architecture.
RUN set -eux; \
    arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    if [ "$arch" = "amd64" ]; then hs=libhyperscan-dev; else hs=libvectorscan-dev; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends g++ make python3 pkg-config "$hs"; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /app
# node-gyp: use the headers in the image instead of fetching them;
# re2: build from its bundled sources instead of fetching a prebuilt addon.
ENV npm_config_nodedir=/usr/local \
    DOWNLOAD_FORCE_BUILD=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
# Dependencies first, so source edits do not re-run the native builds. The
# package's own install script builds proxy/native, hence its sources here.
COPY package.json package-lock.json ./
COPY proxy/native/ proxy/native/
RUN npm ci
COPY tsconfig.json ./
COPY bin/ bin/
COPY cli/ cli/
COPY operator/ operator/
COPY proxy/ proxy/
RUN npx --no-install tsc -p tsconfig.json \
    && test -f proxy/native/build/Release/kube_dlp_hs.node \
    && npm prune --omit=dev

FROM ${NODE_IMAGE}
ARG TARGETARCH
# Runtime libraries only: libhs (as above) and iptables for init-iptables.
# No openssl: certificates are made in-process (@peculiar/x509), and the
# trust-bundle init container uses Node's own roots plus any system bundle.
RUN set -eux; \
    arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    if [ "$arch" = "amd64" ]; then hs=libhyperscan5; else hs=libvectorscan5; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends "$hs" iptables; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/bin/ bin/
COPY --from=build /app/dist/ dist/
# proxy/native/index.ts looks for the addon under proxy/native/build from dist/.
COPY --from=build /app/proxy/native/build/Release/kube_dlp_hs.node proxy/native/build/Release/
# The webhook's sidecar template is data, not compiled: the operator reads it
# from operator/inject/ beside dist/ (render-template.ts). Found missing by the
# e2e: the operator exited at start with ENOENT.
COPY --from=build /app/operator/inject/sidecar-template.yaml operator/inject/
# `kube-dlp` on PATH: the webhook injects `command: ["kube-dlp"]` for the
# proxy and the init container (operator/inject/inject.ts), and the entry
# point uses the same name, so both run one launcher (Node follows the link
# to /app/bin, where the launcher finds dist/).
RUN ln -s /app/bin/kube-dlp.js /usr/local/bin/kube-dlp
# The sidecar does not run as this user: the webhook draws its uid per pod
# (operator/inject/proxy-uid.ts), so the image cannot know it and nothing can
# be owned by it. Everything here is root-owned and must be readable (and
# directories traversable) by any uid; checked here, so a file copied in with
# a private mode fails the build instead of the sidecar at start.
RUN bad="$(find /app /usr/local/bin/kube-dlp \( ! -perm -o=r -o \( -type d ! -perm -o=x \) \) -print -quit)"; \
    if [ -n "$bad" ]; then echo "not readable by an arbitrary uid: $bad" >&2; exit 1; fi
# The uid the operator's manifests run as (runAsNonRoot,
# readOnlyRootFilesystem): no file here needs to be writable.
USER 65532:65532
ENTRYPOINT ["kube-dlp"]
CMD ["--help"]
