#!/usr/bin/env bash
# Runs a command with one shared Kubernetes control plane (etcd +
# kube-apiserver) for the whole run, e.g.
#   test/envtest/with-control-plane.sh npx tap test/integration
# Inside, KDLP_ENVTEST_KUBECONFIG names its admin kubeconfig and
# getControlPlane() in test files attaches to it. The control plane is stopped
# when the command ends, whatever its outcome; the command's exit code is
# passed on.
#
# The binaries are resolved (and on a cold cache, built) here, before the
# command starts, so a long first build never counts against a test timeout.
set -euo pipefail

if (( $# == 0 )); then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

KUBEBUILDER_ASSETS="$(bash "$HERE/build-assets.sh")"
export KUBEBUILDER_ASSETS

# Only the harness is compiled, into its own folder, so this does not depend
# on (or wait for) the rest of the project compiling.
(cd "$ROOT" && npx --no-install tsc -p test/envtest/tsconfig.json)

STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kdlp-envtest-runner.XXXXXX")"
node "$ROOT/dist/envtest-runner/test/envtest/serve.js" "$STATE_DIR/ready" &
SERVER_PID=$!
cleanup() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$STATE_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while [[ ! -s "$STATE_DIR/ready" ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "with-control-plane: the control plane did not start (see the messages above)" >&2
    exit 1
  fi
  sleep 0.2
done
KDLP_ENVTEST_KUBECONFIG="$(cat "$STATE_DIR/ready")"
export KDLP_ENVTEST_KUBECONFIG

set +e
"$@"
status=$?
set -e
exit "$status"
