# kube-dlp: every target installs what it needs first (scripts/ensure-deps.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build typecheck demo test test-unit test-integration bench-scan bench-proxy bench-operator clean

help:
	@echo "make demo    - build, then run the proxy with the sample Protect profile against a local upstream"
	@echo "make test    - type-check (code and tests), build, then run every test suite (unit, conformance, integration)"
	@echo "make bench-scan | bench-proxy | bench-operator - benchmarks"

deps:
	@bash scripts/ensure-deps.sh

build: deps
	@npx --no-install tsc -p tsconfig.json

# Code and tests (tsconfig.test.json); tap itself runs tests without type-checking them.
typecheck: deps
	@npm run --silent typecheck || { echo "type errors above: the tests do not run until \`npm run typecheck\` is clean" >&2; exit 1; }

demo: build
	@bash scripts/demo.sh

# The whole suite; prints "N passed, N failed" last (see scripts/run-tests.sh).
test: typecheck build
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh

test-unit: typecheck build
	@bash scripts/run-tests.sh test/unit

test-integration: typecheck build
	@bash test/envtest/with-control-plane.sh bash scripts/run-tests.sh test/integration

bench-scan: build
	@node dist/bench/scan-bench.js

bench-proxy: build
	@node dist/bench/proxy-bench.js

bench-operator: build
	@npm run --silent bench:operator

clean:
	rm -rf dist proxy/native/build .tap
