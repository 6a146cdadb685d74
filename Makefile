# kube-dlp: every target installs what it needs first (scripts/ensure-deps.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build demo test test-unit test-integration bench-scan bench-proxy bench-operator clean

help:
	@echo "make demo    - build, then run the proxy with the sample Protect profile against a local upstream"
	@echo "make test    - build, then run every test suite (unit, conformance, integration)"
	@echo "make bench-scan | bench-proxy | bench-operator - benchmarks"

deps:
	@bash scripts/ensure-deps.sh

build: deps
	@npx --no-install tsc -p tsconfig.json

demo: build
	@bash scripts/demo.sh

# The whole suite; prints "N passed, N failed" last (see scripts/run-tests.sh).
test: build
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh

test-unit: build
	@bash scripts/run-tests.sh test/unit

test-integration: build
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh test/integration

bench-scan: build
	@node dist/bench/scan-bench.js

bench-proxy: build
	@node dist/bench/proxy-bench.js

bench-operator: build
	@npm run --silent bench:operator

clean:
	rm -rf dist proxy/native/build .tap
