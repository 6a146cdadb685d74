#!/usr/bin/env bash
# Regenerates the dashboards' JSON, their kube-prometheus-stack ConfigMaps and
# the PrometheusRule (see generate.ts); with --check, lists stale files instead.
# Type-checks the generator first: scripts/ is outside the main tsconfig.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx --no-install tsc -p scripts/prometheus/tsconfig.json
exec npx --no-install ts-node --transpile-only scripts/prometheus/generate.ts "$@"
