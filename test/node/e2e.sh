#!/usr/bin/env bash
# `make e2e`: the operator and its sidecar on a real one-node cluster.
# Builds what is missing (control plane, node binaries, the image from the
# Dockerfile; all cached), starts the cluster (test/node/cluster.sh), then
# walks the README's install and quick start and prints one "PROVED:" line
# per fact it checked. Any failure prints "FAILED: <why>" with diagnostics
# and exits non-zero; everything started is removed on exit, also on failure.
# Needs root (containerd, kubelet, a bridge, iptables).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=cluster.sh
source "$HERE/cluster.sh"

T0=$SECONDS
step() { echo "== [$((SECONDS - T0))s] $*"; }
proved() { echo "PROVED: $*"; }
diagnostics() {
  [[ -n "${CLUSTER_STATE:-}" && -n "${KUBECONFIG:-}" ]] || return 0
  echo "--- diagnostics"
  kubectl get pods -A -o wide 2>&1 | head -40
  kubectl get events -A --sort-by=.lastTimestamp 2>&1 | tail -25
  # What the workloads themselves said: the app's RESULT lines, the sidecar's
  # audit and error lines, the operator's log.
  local ns pod
  while read -r ns pod; do
    [[ "$ns" == kube-system ]] && continue
    echo "--- logs of $ns/$pod (all containers, last lines)"
    kubectl -n "$ns" logs "$pod" --all-containers --prefix --tail=15 2>&1
  done < <(kubectl get pods -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name 2>/dev/null)
  local l
  for l in kubelet containerd kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    echo "--- last lines of $l"; tail -n 15 "$CLUSTER_STATE/logs/$l.log" 2>/dev/null
  done
}
fail() { echo "FAILED: $*"; diagnostics; exit 1; }
# Bounded wait with a message naming what did not happen.
await() { # <seconds> <what> <cmd...>
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || fail "timed out after ${limit}s waiting for $what"
    sleep 1
  done
}

[[ "$(id -u)" == 0 ]] || fail "the e2e needs root (containerd, kubelet, a bridge and iptables); run it as root"
missing=()
for pkg in containerd runc containernetworking-plugins iptables mmdebstrap buildah openssl gcc libc6-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "could not install ${missing[*]}"
fi

step "building what is missing (cached in ~/.cache/kube-dlp)"
KUBEBUILDER_ASSETS="$(bash "$ROOT/test/envtest/build-assets.sh")" || fail "kube-apiserver/etcd build failed"
NODE_ASSETS="$(bash "$ROOT/test/envtest/build-node-assets.sh")" || fail "node binaries build failed"
# KDLP_E2E_IMAGE_ARCHIVE: an archive built before (development of the e2e
# itself); by default the image is built from the current tree, cached by content.
IMAGE_ARCHIVE="${KDLP_E2E_IMAGE_ARCHIVE:-$(bash "$HERE/build-image.sh")}" || fail "image build from the Dockerfile failed"
export KUBEBUILDER_ASSETS NODE_ASSETS
# kubectl from the same k8s.io/kubernetes release as the cluster.
export PATH="$NODE_ASSETS:$PATH"
IMAGE_REF="$(cat "$IMAGE_ARCHIVE.ref")"
proved "image $IMAGE_REF built from the Dockerfile ($IMAGE_ARCHIVE)"
# `make test` builds first (--prepare), outside the test runner's per-file timeout.
if [[ "${1:-}" == "--prepare" ]]; then echo "E2E PREPARED"; exit 0; fi

STATE="$(mktemp -d "${TMPDIR:-/tmp}/kdlp-e2e.XXXXXX")"
trap 'cluster_down' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
step "starting the cluster (state in $STATE)"
cluster_up "$STATE" || fail "the cluster did not start (see the messages above)"
proved "node $KDLP_NODE_NAME registered and Ready (kubelet $(kubectl version -o json | node -pe 'JSON.parse(require("fs").readFileSync(0)).serverVersion.gitVersion'), containerd, runc)"

# The manifests name kube-dlp:0.1.0 (operator and proxy): the image is
# imported under that name, so `kubectl apply -k config/default` runs as is.
import_image "$IMAGE_ARCHIVE" "docker.io/library/kube-dlp:0.1.0" || fail "ctr could not import $IMAGE_ARCHIVE"

step "install: kubectl apply -k config/default"
kubectl apply -k "$ROOT/config/default" >/dev/null || fail "kubectl apply -k config/default was refused"
kubectl -n kube-dlp-system rollout status deployment/kube-dlp-operator --timeout=240s \
  || fail "the operator Deployment did not become Ready in 240s"
proved "kubectl apply -k config/default: operator Deployment Ready ($(kubectl -n kube-dlp-system get deploy kube-dlp-operator -o jsonpath='{.status.readyReplicas}') replicas) on the node"

step "upstream Service in namespace e2e-upstream (not opted in)"
workload_cm() { # <namespace>
  kubectl -n "$1" create configmap e2e-workloads --from-file="$HERE/workloads/app.js" --from-file="$HERE/workloads/upstream.js" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}
kubectl create namespace e2e-upstream >/dev/null
workload_cm e2e-upstream
kubectl apply -f - >/dev/null <<YAML || fail "upstream manifests refused"
apiVersion: v1
kind: Pod
metadata: {name: upstream, namespace: e2e-upstream, labels: {app: upstream}}
spec:
  containers:
    - name: upstream
      image: kube-dlp:0.1.0
      imagePullPolicy: Never
      command: [node, /workloads/upstream.js]
      volumeMounts: [{name: workloads, mountPath: /workloads}]
  volumes: [{name: workloads, configMap: {name: e2e-workloads}}]
---
apiVersion: v1
kind: Service
metadata: {name: upstream, namespace: e2e-upstream}
spec:
  selector: {app: upstream}
  ports: [{port: 80, targetPort: 8080}]
YAML
kubectl -n e2e-upstream wait --for=condition=Ready pod/upstream --timeout=120s || fail "the upstream pod did not start"
UPSTREAM_IP="$(kubectl -n e2e-upstream get service upstream -o jsonpath='{.spec.clusterIP}')"
UPSTREAM_URL="http://$UPSTREAM_IP/orders"
proved "upstream pod Running, Service at $UPSTREAM_IP"

# A Luhn-valid card number (not a well-known test number) and an email.
CARD="$(node -e 'const p="453957876362148";let s=0;for(let i=0;i<p.length;i++){let d=+p[p.length-1-i];if(i%2===0){d*=2;if(d>9)d-=9}s+=d}console.log(p+((10-s%10)%10))')"
EMAIL="alice.payer@example.com"

app_pod() { # <namespace> <name> <ignore proxy 0|1> [annotations yaml]
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $2
  namespace: $1
  labels: {app: $2}
  annotations: {${4:-}}
spec:
  containers:
    - name: app
      image: kube-dlp:0.1.0
      imagePullPolicy: Never
      command: [node, /workloads/app.js]
      env:
        - {name: UPSTREAM_URL, value: "$UPSTREAM_URL"}
        - {name: CARD, value: "$CARD"}
        - {name: EMAIL, value: "$EMAIL"}
        - {name: IGNORE_PROXY, value: "$3"}
      volumeMounts: [{name: workloads, mountPath: /workloads}]
  volumes: [{name: workloads, configMap: {name: e2e-workloads}}]
YAML
}

opt_in() { # <namespace>: the README's quick start
  kubectl create namespace "$1" >/dev/null
  kubectl -n "$1" apply -f "$ROOT/config/samples/securityprofile-protect.yaml" >/dev/null || fail "the Protect sample was refused in namespace $1"
  kubectl annotate namespace "$1" kubedlp.io/inject=enabled kubedlp.io/profile=protect-payments >/dev/null
  await 60 "the operator to render the profile into $1 and label it for injection" \
    sh -c "kubectl -n $1 get configmap kube-dlp-profile && kubectl get namespace $1 -o jsonpath='{.metadata.labels.kubedlp\.io/injection}' | grep -qx enabled"
  workload_cm "$1"
}

last_result() { # <namespace> <pod> <name>: the latest RESULT line for that request
  kubectl -n "$1" logs "$2" -c app 2>/dev/null | grep '^RESULT ' | sed 's/^RESULT //' | grep "\"name\":\"$3\"" | tail -n 1
}
field() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=o[process.argv[1]];console.log(typeof v==="object"?JSON.stringify(v):v)' "$1"; }

check_protected() { # <namespace> <pod> <label>
  local ns=$1 pod=$2 label=$3 card email benign
  await 90 "three answered requests from $ns/$pod" sh -c "kubectl -n $ns logs $pod -c app | grep -c '^RESULT ' | awk '\$1 >= 3 {ok=1} END {exit !ok}'"
  card="$(last_result "$ns" "$pod" card)"; email="$(last_result "$ns" "$pod" email)"; benign="$(last_result "$ns" "$pod" benign)"
  [[ "$(field status <<<"$card")" == 403 ]] || fail "$label: the card request was not blocked: $card"
  proved "$label: card blocked (HTTP 403 from the sidecar)"
  [[ "$(field status <<<"$benign")" == 200 && "$benign" == *benign-marker-42* ]] || fail "$label: the benign request was not served: $benign"
  proved "$label: benign request served by the upstream"
  [[ "$(field status <<<"$email")" == 200 ]] || fail "$label: the email request failed: $email"
  [[ "$email" != *"$EMAIL"* ]] || fail "$label: the email reached the upstream unredacted: $email"
  proved "$label: email redacted before it reached the upstream"
  local upstream_log
  upstream_log="$(kubectl -n e2e-upstream logs upstream)"
  [[ "$upstream_log" != *"$CARD"* ]] || fail "$label: the upstream received the card number"
  [[ "$upstream_log" != *"$EMAIL"* ]] || fail "$label: the upstream received the email"
  proved "$label: the upstream's log holds neither the card nor the email"
  local proxy_log
  proxy_log="$(kubectl -n "$ns" logs "$pod" -c kube-dlp-proxy)"
  grep -q '"event":"dlp".*"decision":"block"' <<<"$proxy_log" || grep -q '"decision":"block".*"event":"dlp"' <<<"$proxy_log" \
    || fail "$label: no audit line for the blocked card in the sidecar's log"
  [[ "$proxy_log" != *"$CARD"* && "$proxy_log" != *"$EMAIL"* ]] || fail "$label: the sidecar's log holds a raw secret"
  proved "$label: audit line for the block in the sidecar's log, evidence masked"
  local pod_ip metrics
  pod_ip="$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.status.podIP}')"
  metrics="$(curl -fsS --max-time 5 "http://$pod_ip:15090/metrics")" || fail "$label: the sidecar's /metrics did not answer on $pod_ip:15090"
  grep -q '^kubedlp_' <<<"$metrics" || fail "$label: no kubedlp_* metric on the sidecar's /metrics"
  proved "$label: $(grep -c '^kubedlp_' <<<"$metrics") kubedlp_* samples on the sidecar's /metrics"
}

step "quick start, explicit capture: namespace e2e-explicit opted in with the Protect sample"
kubectl apply -f "$ROOT/config/samples/clustersecurityprofile-default.yaml" >/dev/null || fail "the cluster default profile was refused"
opt_in e2e-explicit
app_pod e2e-explicit app 0 || fail "the app pod was refused"
await 120 "the injected app pod e2e-explicit/app to run" kubectl -n e2e-explicit wait --for=condition=Ready pod/app --timeout=2s
kubectl -n e2e-explicit get pod app -o jsonpath='{.spec.initContainers[*].name}' | grep -qw kube-dlp-proxy \
  || fail "e2e-explicit/app was not injected"
proved "explicit: the app pod was injected (native sidecar kube-dlp-proxy, command kube-dlp) and runs"
check_protected e2e-explicit app explicit

step "transparent capture: an app that ignores HTTP_PROXY"
opt_in e2e-transparent
app_pod e2e-transparent app 1 '"kubedlp.io/capture-mode": transparent' || fail "the transparent app pod was refused"
await 120 "the injected app pod e2e-transparent/app to run" kubectl -n e2e-transparent wait --for=condition=Ready pod/app --timeout=2s
kubectl -n e2e-transparent get pod app -o jsonpath='{.spec.initContainers[*].name}' | grep -qw kube-dlp-init \
  || fail "e2e-transparent/app has no init-iptables container"
proved "transparent: init-iptables ran and the app (ignoring HTTP_PROXY) runs"
check_protected e2e-transparent app transparent

step "deleting the profile"
kubectl -n e2e-explicit delete securityprofile protect-payments >/dev/null
sleep 5
kubectl -n e2e-explicit get pod app -o jsonpath='{.status.phase}' | grep -qx Running || fail "the running pod did not survive the profile's deletion"
before="$(kubectl -n e2e-explicit logs app -c app | grep -c '^RESULT ')"
await 30 "new requests from e2e-explicit/app" sh -c "[ \$(kubectl -n e2e-explicit logs app -c app | grep -c '^RESULT ') -gt $before ]"
[[ "$(field status <<<"$(last_result e2e-explicit app card)")" == 403 ]] || fail "after the profile's deletion the card went through: $(last_result e2e-explicit app card)"
proved "profile deleted: the running pod keeps its last profile and still blocks the card (fail closed)"
await 60 "the operator to mark e2e-explicit as missing its profile" \
  sh -c "kubectl get namespace e2e-explicit -o jsonpath='{.metadata.annotations.kubedlp\.io/profile-status}' | grep -q '^missing: '"
kubectl get events -n e2e-explicit --field-selector reason=ProfileNotFound -o name | grep -q . \
  || fail "no ProfileNotFound event in namespace e2e-explicit"
proved "profile deleted: the namespace says so (kubedlp.io/profile-status: $(kubectl get namespace e2e-explicit -o jsonpath='{.metadata.annotations.kubedlp\.io/profile-status}')) and a ProfileNotFound event is in the namespace"
if refusal="$(app_pod e2e-explicit app-after-delete 0 2>&1)"; then
  fail "a pod created after the profile's deletion was admitted (it would mount a profile that does not exist)"
fi
[[ "$refusal" == *"has no DLP profile"* ]] || fail "a pod created after the profile's deletion was refused without the reason: $refusal"
proved "profile deleted: a new pod is refused at admission with the reason, never left hanging: ${refusal##*not admitted: }"

step "opting out"
kubectl annotate namespace e2e-transparent kubedlp.io/inject- >/dev/null
await 60 "the operator to drop the injection label from e2e-transparent" \
  sh -c "! kubectl get namespace e2e-transparent -o jsonpath='{.metadata.labels.kubedlp\.io/injection}' | grep -q enabled"
app_pod e2e-transparent app-opted-out 1 || fail "a pod in the opted-out namespace was refused"
await 60 "the opted-out app pod to run" kubectl -n e2e-transparent wait --for=condition=Ready pod/app-opted-out --timeout=2s
[[ -z "$(kubectl -n e2e-transparent get pod app-opted-out -o jsonpath='{.spec.initContainers[*].name}')" ]] \
  || fail "a pod created after opting out was injected"
proved "opted out: new pods are not injected"
kubectl -n e2e-transparent get pod app -o jsonpath='{.status.phase}' | grep -qx Running || fail "the injected pod did not survive opting out"
proved "opted out: pods injected before keep running with their sidecar until they are replaced"

step "Helm: the chart renders what config/default applies"
helm template kube-dlp "$ROOT/config/helm/kube-dlp" --namespace kube-dlp-system --include-crds > "$STATE/helm.yaml" \
  || fail "helm template config/helm/kube-dlp failed"
differences="$(kubectl kustomize "$ROOT/config/default" | node "$HERE/same-objects.js" "$STATE/helm.yaml")" \
  || fail "the chart and config/default differ:"$'\n'"$differences"
proved "Helm: helm template config/helm/kube-dlp gives the same objects as kubectl kustomize config/default"

step "Helm: replacing the kustomize install with helm install"
kubectl delete -k "$ROOT/config/default" --wait=true --timeout=180s >/dev/null 2>&1 \
  || fail "kubectl delete -k config/default did not finish in 180s"
helm install kube-dlp "$ROOT/config/helm/kube-dlp" --namespace kube-dlp-system --create-namespace \
  --wait --timeout 240s >/dev/null || fail "helm install did not get the operator Ready in 240s"
kubectl -n kube-dlp-system rollout status deployment/kube-dlp-operator --timeout=60s >/dev/null \
  || fail "the operator installed by Helm is not Ready"
proved "Helm: helm install config/helm/kube-dlp: operator Ready"
kubectl apply -f "$ROOT/config/samples/clustersecurityprofile-default.yaml" >/dev/null
opt_in e2e-helm
app_pod e2e-helm app 0 || fail "the app pod was refused under the Helm install"
await 120 "the injected app pod e2e-helm/app to run" kubectl -n e2e-helm wait --for=condition=Ready pod/app --timeout=2s
check_protected e2e-helm app helm

step "done in $((SECONDS - T0))s"
echo "E2E PASSED"
