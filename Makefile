# kube-dlp: every target installs what it needs first (scripts/ensure-deps.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build demo test test-unit test-integration e2e bench-scan bench-proxy bench-operator clean

help:
	@echo "make demo    - build, then run the proxy with the sample Protect profile against a local upstream"
	@echo "make test    - build, then run every test suite (unit, conformance, integration, e2e)"
	@echo "make e2e     - the operator and sidecar on a real one-node cluster (root; builds and caches what it needs)"
	@echo "make bench-scan | bench-proxy | bench-operator - benchmarks"

deps:
	@bash scripts/ensure-deps.sh

build: deps
	@npx --no-install tsc -p tsconfig.json

demo: build
	@bash scripts/demo.sh

# The whole suite; prints "N passed, N failed" last (see scripts/run-tests.sh).
# The e2e's builds (node binaries, helm, the image; cached) run first, outside
# tap's per-file timeout; if they cannot, test/e2e/node.test.ts fails saying why.
test: build
	@bash test/node/e2e.sh --prepare || echo "make: the e2e could not be prepared; test/e2e/node.test.ts will fail with the reason"
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh

test-unit: build
	@bash scripts/run-tests.sh test/unit

test-integration: build
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
