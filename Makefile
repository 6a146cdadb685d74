# kube-dlp: every target installs what it needs first (scripts/ensure-deps.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build typecheck generate demo test test-unit test-integration test-e2e e2e bench-scan bench-proxy bench-operator clean

help:
	@echo "make demo    - build, then run the proxy with the sample Protect profile against a local upstream"
	@echo "make test    - type-check (code and tests), build, then run the unit, conformance, integration and real-node suites"
	@echo "make e2e     - the operator and sidecar on a real one-node cluster (root; builds and caches what it needs)"
	@echo "make test-e2e - the real-node journey alone, counted as a test suite (also part of make test)"
	@echo "make generate - rewrite every generated file (CRDs, RBAC, webhook manifests, dashboards)"
	@echo "make bench-scan | bench-proxy | bench-operator - benchmarks"

deps:
	@bash scripts/ensure-deps.sh

build: deps
	@npx --no-install tsc -p tsconfig.json

# Code and tests (tsconfig.test.json); tap itself runs tests without type-checking them.
typecheck: deps
	@npm run --silent typecheck || { echo "type errors above: the tests do not run until \`npm run typecheck\` is clean" >&2; exit 1; }

# Every generated file (CRDs, RBAC, webhook manifests, dashboards); `npm run generate:check` lists stale ones.
generate: deps
	@npm run --silent generate

demo: build
	@bash scripts/demo.sh

# Every suite, the real-node journey (test/e2e) included; prints
# "N passed, N failed" last (see scripts/run-tests.sh), one count for all.
# The e2e's builds (node binaries, helm, the image; cached in
# ~/.cache/kube-dlp) run first, outside tap's per-file timeout; a failed
# preparation fails test/e2e with the reason (see test/node/README.md).
test: typecheck build
	@bash test/node/e2e.sh --prepare || echo "make: the e2e could not be prepared; test/e2e/node.test.ts will fail with the reason"
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh test/unit test/integration test/e2e

# The real-node journey counted like the other suites: the builds (node
# binaries, helm, the image; cached) run first, outside tap's per-file timeout.
test-e2e: build
	@bash test/node/e2e.sh --prepare || echo "make: the e2e could not be prepared; test/e2e/node.test.ts will fail with the reason"
	@bash scripts/run-tests.sh test/e2e

test-unit: typecheck build
	@bash scripts/run-tests.sh test/unit

test-integration: typecheck build
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh test/integration

# A one-node cluster (kubelet, containerd, runc) and the image built from the
# Dockerfile; prints one PROVED line per checked fact (test/node/e2e.sh).
e2e: build
	@bash test/node/e2e.sh

bench-scan: build
	@node dist/bench/scan-bench.js

bench-proxy: build
	@node dist/bench/proxy-bench.js

bench-operator: build
	@npm run --silent bench:operator

clean:
	rm -rf dist proxy/native/build .tap
