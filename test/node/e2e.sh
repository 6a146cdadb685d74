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
# grep over a pipe that is read to its end first. Under pipefail, `cmd | grep -q`
# fails when grep exits at its first match while cmd is still writing (SIGPIPE):
# kubectl's multi-line output made a present HTTP_PROXY read as missing.
matches() { local input; input="$(cat)"; grep "$@" <<<"$input"; }
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
  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
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

# The README's quick start, for one namespace: the sample profile, the opt-in
# annotations and the tenant. Every namespace of the journey is in tenant
# `payments`, the upstream's included: Protect denies in-cluster destinations
# of other tenants and of namespaces the operator does not know
# (tenancy.denyCrossTenant), so an app reaches only its own tenant.
workload_cm() { # <namespace>
  kubectl -n "$1" create configmap e2e-workloads --from-file="$HERE/workloads/app.js" --from-file="$HERE/workloads/upstream.js" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}
opt_in() { # <namespace> <sample file> <profile name>
  kubectl create namespace "$1" >/dev/null 2>&1 || true
  kubectl -n "$1" apply -f "$ROOT/config/samples/$2" >/dev/null || fail "the sample $2 was refused in namespace $1"
  kubectl annotate --overwrite namespace "$1" kubedlp.io/inject=enabled "kubedlp.io/profile=$3" kubedlp.io/tenant=payments >/dev/null
  await 60 "the operator to render the profile into $1 and label it for injection" \
    sh -c "kubectl -n $1 get configmap kube-dlp-profile && kubectl get namespace $1 -o jsonpath='{.metadata.labels.kubedlp\.io/injection}' | grep -qx enabled"
  workload_cm "$1"
}
# The directory the sidecars hot-reload lists every namespace of the tenant.
await_in_directory() { # <namespace> <other namespace>
  await 60 "the tenant directory in $1 to list $2" \
    sh -c "kubectl -n $1 get configmap kube-dlp-tenants -o jsonpath='{.data}' | grep -q 'name: $2'"
}

step "upstream: a Service in namespace e2e-upstream, same tenant (payments)"
kubectl apply -f "$ROOT/config/samples/clustersecurityprofile-default.yaml" >/dev/null || fail "the cluster default profile was refused"
opt_in e2e-upstream securityprofile-protect.yaml protect-payments
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
proved "upstream pod Running (injected too: its namespace is opted in), Service at $UPSTREAM_IP"

# A Luhn-valid card number (not a well-known test number) and an email.
CARD="$(node -e 'const p="453957876362148";let s=0;for(let i=0;i<p.length;i++){let d=+p[p.length-1-i];if(i%2===0){d*=2;if(d>9)d-=9}s+=d}console.log(p+((10-s%10)%10))')"
# Not at example.com: the detector ignores the reserved domains (RFC 2606).
EMAIL="alice.payer@acme-payments.io"
# Redaction keeps the length: what the upstream must see instead of the email.
EMAIL_MASK="$(printf '%*s' "${#EMAIL}" '' | tr ' ' '*')"

app_pod() { # <namespace> <name> <ignore proxy 0|1> [annotations yaml] [app securityContext yaml]
  kubectl apply -f - 2>&1 >/dev/null <<YAML
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
        - {name: UPSTREAM_URL, value: "$UPSTREAM_URL?from=$1.$2"}
        - {name: CARD, value: "$CARD"}
        - {name: EMAIL, value: "$EMAIL"}
        - {name: IGNORE_PROXY, value: "$3"}
      volumeMounts: [{name: workloads, mountPath: /workloads}]
      securityContext: ${5:-{\}}
  volumes: [{name: workloads, configMap: {name: e2e-workloads}}]
YAML
}
run_app() { # <namespace> <name> <ignore proxy 0|1> [annotations yaml] [app securityContext yaml]
  local out
  out="$(app_pod "$@")" || fail "the app pod $1/$2 was refused: $out"
  await 120 "the injected app pod $1/$2 to run" kubectl -n "$1" wait --for=condition=Ready "pod/$2" --timeout=2s
  kubectl -n "$1" get pod "$2" -o jsonpath='{.spec.initContainers[*].name}' | matches -qw kube-dlp-proxy \
    || fail "$1/$2 was not injected"
}
init_names() { kubectl -n "$1" get pod "$2" -o jsonpath='{.spec.initContainers[*].name}'; }
app_env() { kubectl -n "$1" get pod "$2" -o jsonpath='{range .spec.containers[?(@.name=="app")].env[*]}{.name}={.value}{"\n"}{end}'; }

last_result() { # <namespace> <pod> <name>: the latest RESULT line for that request
  kubectl -n "$1" logs "$2" -c app 2>/dev/null | grep '^RESULT ' | sed 's/^RESULT //' | grep "\"name\":\"$3\"" | tail -n 1
}
field() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=o[process.argv[1]];console.log(typeof v==="object"?JSON.stringify(v):v)' "$1"; }
# The `error` word of the sidecar's JSON refusal in a RESULT line's body.
refusal_error() { node -e 'try{const o=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(JSON.parse(o.body).error??"")}catch{console.log("")}'; }
await_results() { # <namespace> <pod> <count>
  await 90 "$3 answered requests from $1/$2" sh -c "kubectl -n $1 logs $2 -c app | grep -c '^RESULT ' | awk '\$1 >= $3 {ok=1} END {exit !ok}'"
}

# An audit line of the sidecar for a detector, with the decision it reports.
audit_decision() { # <namespace> <pod> <detector>
  kubectl -n "$1" logs "$2" -c kube-dlp-proxy | grep '"event":"dlp"' | grep "\"detector\":\"$3\"" | tail -n 1 \
    | node -e 'try{console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).decision)}catch{}'
}
check_audit_and_metrics() { # <namespace> <pod> <label> <card decision> <email decision>
  local ns=$1 pod=$2 label=$3 proxy_log pod_ip metrics got
  got="$(audit_decision "$ns" "$pod" pci.card-number)"
  [[ "$got" == "$4" ]] || fail "$label: no audit line with decision $4 for the card in the sidecar's log (got: ${got:-none})"
  got="$(audit_decision "$ns" "$pod" pii.email)"
  [[ "$got" == "$5" ]] || fail "$label: no audit line with decision $5 for the email in the sidecar's log (got: ${got:-none})"
  proxy_log="$(kubectl -n "$ns" logs "$pod" -c kube-dlp-proxy)"
  [[ "$proxy_log" != *"$CARD"* && "$proxy_log" != *"$EMAIL"* ]] || fail "$label: the sidecar's log holds a raw secret"
  grep -F '"msg":"profile loaded"' <<<"$proxy_log" | grep -qF '"databases":"shipped"' \
    || fail "$label: the sidecar did not start from the operator's compiled databases: $(grep -m 2 -e 'profile loaded' -e 'databases not used' <<<"$proxy_log")"
  proved "$label: the sidecar started from the operator's compiled databases (no pattern compiler ran in the pod)"
  proved "$label: audit lines in the sidecar's log (card: $4, email: $5), evidence masked ($(grep -o '"masked":"[^"]*"' <<<"$proxy_log" | sort -u | tr '\n' ' '))"
  pod_ip="$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.status.podIP}')"
  metrics="$(curl -fsS --max-time 5 "http://$pod_ip:15090/metrics")" || fail "$label: the sidecar's /metrics did not answer on $pod_ip:15090"
  grep -q '^kubedlp_' <<<"$metrics" || fail "$label: no kubedlp_* metric on the sidecar's /metrics"
  [[ "$metrics" != *"$CARD"* && "$metrics" != *"$EMAIL"* ]] || fail "$label: the sidecar's /metrics holds a raw secret"
  proved "$label: $(grep -c '^kubedlp_' <<<"$metrics") kubedlp_* samples on the sidecar's admin port ($pod_ip:15090/metrics)"
}

check_protected() { # <namespace> <pod> <label>
  local ns=$1 pod=$2 label=$3 card email benign upstream_log
  await_results "$ns" "$pod" 3
  card="$(last_result "$ns" "$pod" card)"; email="$(last_result "$ns" "$pod" email)"; benign="$(last_result "$ns" "$pod" benign)"
  [[ "$(field status <<<"$card")" == 403 && "$(refusal_error <<<"$card")" == blocked ]] \
    || fail "$label: the card request was not blocked by the sidecar: $card"
  proved "$label: card blocked by the sidecar (403, {\"error\":\"blocked\"})"
  [[ "$(field status <<<"$benign")" == 200 && "$benign" == *benign-marker-42* ]] || fail "$label: the benign request was not served: $benign"
  proved "$label: benign request served by the upstream"
  [[ "$(field status <<<"$email")" == 200 ]] || fail "$label: the email request failed: $email"
  [[ "$email" != *"$EMAIL"* && "$email" == *"$EMAIL_MASK"* ]] || fail "$label: the upstream did not answer with the masked email: $email"
  # Only what this pod sent: Monitor namespaces let the card through, as they should.
  upstream_log="$(kubectl -n e2e-upstream logs upstream -c upstream | grep -F "from=$ns.$pod\"")"
  [[ "$upstream_log" != *"$CARD"* ]] || fail "$label: the upstream received the card number"
  [[ "$upstream_log" != *"$EMAIL"* ]] || fail "$label: the upstream received the email"
  [[ "$upstream_log" == *"$EMAIL_MASK"* ]] || fail "$label: the upstream never received the masked email"
  proved "$label: email redacted in flight (the upstream received $EMAIL_MASK; its log holds neither the card nor the email)"
  check_audit_and_metrics "$ns" "$pod" "$label" blocked redacted
}

step "Protect (transparent capture by default): namespace e2e-protect, an app that ignores HTTP_PROXY"
opt_in e2e-protect securityprofile-protect.yaml protect-payments
await_in_directory e2e-protect e2e-upstream
run_app e2e-protect app 1
init_names e2e-protect app | matches -qw kube-dlp-init || fail "e2e-protect/app has no kube-dlp-init (iptables) container"
! app_env e2e-protect app | matches -q '^HTTP_PROXY=' || fail "e2e-protect/app got HTTP_PROXY in transparent mode"
proved "transparent: the Protect namespace's pod got kube-dlp-init (iptables) and the native sidecar, no HTTP_PROXY; the app connects directly"
check_protected e2e-protect app transparent
[[ "$(field via <<<"$(last_result e2e-protect app card)")" == direct ]] || fail "transparent: the app did not connect directly"
proved "transparent: the app ignored the proxy variables and was still inspected"

step "Monitor (explicit capture by default): namespace e2e-monitor"
opt_in e2e-monitor securityprofile-monitor.yaml monitor-all
run_app e2e-monitor app 0
! init_names e2e-monitor app | matches -qw kube-dlp-init || fail "e2e-monitor/app got the iptables init container in explicit mode"
app_env e2e-monitor app | matches -q '^HTTP_PROXY=http://127.0.0.1:15001$' || fail "e2e-monitor/app has no HTTP_PROXY to the sidecar: $(app_env e2e-monitor app | tr '\n' ' ')"
proved "explicit: the Monitor namespace's pod got the sidecar and HTTP_PROXY=http://127.0.0.1:15001, no iptables"
await_results e2e-monitor app 3
for name in card email benign; do
  r="$(last_result e2e-monitor app "$name")"
  [[ "$(field status <<<"$r")" == 200 && "$(field via <<<"$r")" == HTTP_PROXY ]] || fail "explicit: the $name request did not pass through the sidecar: $r"
done
proved "explicit: Monitor lets the card, email and benign requests through the sidecar (HTTP_PROXY), as Monitor should"
check_audit_and_metrics e2e-monitor app explicit allowed allowed

step "deleting the Protect profile of e2e-protect"
kubectl -n e2e-protect delete securityprofile protect-payments >/dev/null
await 60 "the operator to mark e2e-protect as missing its profile" \
  sh -c "kubectl get namespace e2e-protect -o jsonpath='{.metadata.annotations.kubedlp\.io/profile-status}' | grep -q '^missing: '"
kubectl get events -n e2e-protect --field-selector reason=ProfileNotFound -o name | matches -q . \
  || fail "no ProfileNotFound event in namespace e2e-protect"
proved "profile deleted: the namespace says so (kubedlp.io/profile-status: $(kubectl get namespace e2e-protect -o jsonpath='{.metadata.annotations.kubedlp\.io/profile-status}')) and a ProfileNotFound event is in the namespace"
kubectl -n e2e-protect get pod app -o jsonpath='{.status.phase}' | matches -qx Running || fail "the running pod did not survive the profile's deletion"
before="$(kubectl -n e2e-protect logs app -c app | grep -c '^RESULT ')"
await 30 "new requests from e2e-protect/app" sh -c "[ \$(kubectl -n e2e-protect logs app -c app | grep -c '^RESULT ') -gt $((before + 2)) ]"
card="$(last_result e2e-protect app card)"; benign="$(last_result e2e-protect app benign)"
[[ "$(field status <<<"$card")" == 403 && "$(refusal_error <<<"$card")" == blocked ]] || fail "after the profile's deletion the card was not blocked: $card"
[[ "$(field status <<<"$benign")" == 200 ]] || fail "after the profile's deletion the benign request failed: $benign"
proved "profile deleted: the running pod keeps its last profile: card still blocked, benign still served"
if refusal="$(app_pod e2e-protect app-after-delete 1)"; then
  fail "a pod created after the profile's deletion was admitted (it would mount a profile that does not exist)"
fi
[[ "$refusal" == *"has no DLP profile"* ]] || fail "a pod created after the profile's deletion was refused without the reason: $refusal"
proved "profile deleted: a new pod is refused at admission with the reason, never left hanging: ${refusal##*not admitted: }"

step "opting e2e-monitor out"
kubectl annotate namespace e2e-monitor kubedlp.io/inject- >/dev/null
await 60 "the operator to drop the injection label from e2e-monitor" \
  sh -c "! kubectl get namespace e2e-monitor -o jsonpath='{.metadata.labels.kubedlp\.io/injection}' | grep -q enabled"
out="$(app_pod e2e-monitor app-opted-out 0)" || fail "a pod in the opted-out namespace was refused: $out"
await 60 "the opted-out app pod to run" kubectl -n e2e-monitor wait --for=condition=Ready pod/app-opted-out --timeout=2s
[[ -z "$(init_names e2e-monitor app-opted-out)" ]] || fail "a pod created after opting out was injected"
proved "opted out: new pods are not injected"
kubectl -n e2e-monitor get pod app -o jsonpath='{.status.phase}' | matches -qx Running || fail "the injected pod did not survive opting out"
await 60 "a PodsOrphanedSidecar event in e2e-monitor" \
  sh -c "kubectl get events -n e2e-monitor --field-selector reason=PodsOrphanedSidecar -o name | grep -q ."
proved "opted out: the pod injected before keeps running with its sidecar and is reported ($(kubectl get events -n e2e-monitor --field-selector reason=PodsOrphanedSidecar -o jsonpath='{.items[0].message}'))"

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
# Deleting the CRDs took every profile with them: the quick start again.
kubectl apply -f "$ROOT/config/samples/clustersecurityprofile-default.yaml" >/dev/null
opt_in e2e-upstream securityprofile-protect.yaml protect-payments
opt_in e2e-helm securityprofile-protect.yaml protect-payments
await_in_directory e2e-helm e2e-upstream
run_app e2e-helm app 1
check_protected e2e-helm app helm

step "bypass attempts (#16): captured or refused at admission, also with the operator down"
# The proxy's uid is exempt from capture. It was 1337 for every pod, which an
# image could name with USER; now the webhook draws it per pod. An app running
# as 1337 (a runAsUser here; an image's USER is the same process at run time)
# is an ordinary app: admitted, and captured.
proxy_uid() { kubectl -n "$1" get pod "$2" -o jsonpath='{.spec.initContainers[?(@.name=="kube-dlp-proxy")].securityContext.runAsUser}'; }
init_uid_arg() { kubectl -n "$1" get pod "$2" -o jsonpath='{.spec.initContainers[?(@.name=="kube-dlp-init")].args}' | tr -d '[]"' | tr ',' '\n' | grep '^--proxy-uid='; }
run_app e2e-helm as-1337 1 "" "{runAsUser: 1337}"
uid="$(proxy_uid e2e-helm as-1337)"
(( uid >= 1048576 && uid <= 2147483646 )) || fail "uid 1337: the sidecar does not run as a drawn uid (runAsUser ${uid:-unset})"
[[ "$(init_uid_arg e2e-helm as-1337)" == "--proxy-uid=$uid" ]] || fail "uid 1337: kube-dlp-init does not exempt the sidecar's uid $uid: $(init_uid_arg e2e-helm as-1337)"
[[ "$uid" != "$(proxy_uid e2e-helm app)" ]] || fail "two pods got the same proxy uid $uid: not drawn per pod"
check_protected e2e-helm as-1337 "uid 1337"
proved "bypass: an app running as uid 1337, the proxy's former fixed uid, is captured; its sidecar runs as the uid drawn for its pod ($uid), which its kube-dlp-init exempts"
# A pod that tries to escape capture by adding NET_ADMIN (could rewrite the
# iptables rules); below, every other attempt the admission rules
# (pod-rules.ts) name.
bypass_pod() { # <namespace> <name> <securityContext yaml> [metadata fields yaml] [spec fields yaml]
  kubectl apply -f - 2>&1 >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $2, namespace: $1${4:+, $4}}
spec:
  ${5:-}
  containers:
    - name: app
      image: kube-dlp:0.1.0
      imagePullPolicy: Never
      command: [node, -e, "setInterval(() => {}, 1000)"]
      securityContext: $3
YAML
}
# Sets msg to the refusal. Not called in $(...): fail must end the script,
# not a subshell whose FAILED line would end up inside a PROVED one.
refused() { # <label> <expected words> <namespace> <name> <securityContext yaml> [metadata fields yaml] [spec fields yaml]
  local out
  if out="$(bypass_pod "$3" "$4" "$5" "${6:-}" "${7:-}")"; then fail "$1: the pod $3/$4 was admitted"; fi
  [[ "$out" == *"$2"* ]] || fail "$1: the pod $3/$4 was refused without the reason ($2): $out"
  msg="$out"
}
# The refusal itself, without kubectl's and the API server's preamble.
reason_of() { local m="${1##*denied the request: }"; echo "${m##*denied request: }"; }
refused "NET_ADMIN" "NET_ADMIN or NET_RAW" e2e-helm net-admin '{capabilities: {add: [NET_ADMIN]}}'
proved "bypass: an app container adding NET_ADMIN is refused at admission: ${msg##*denied the request: }"
# Every other way out of capture, with the operator serving (the webhook
# refuses first, with the words of pod-rules.ts; the policy says the same).
OPT_OUT_LABEL='labels: {kubedlp.io/inject: disabled}'
OPT_OUT_ANNOTATION='annotations: {kubedlp.io/inject: disabled}'
NOT_GRANTED='labels: {kubedlp.io/inject: disabled, kubedlp.io/exemption: e2e-not-granted}'
# What the webhook writes on a pod it injected, naming the containers this
# pod really has (so it reads as "already injected"), and a container named
# like the sidecar that is not it.
FORGED_STATUS='annotations: {kubedlp.io/sidecar-status: '"'"'{"mode":"explicit","native":true,"containers":["app"],"initContainers":["kube-dlp-proxy"]}'"'"'}'
FORGED_PROXY='initContainers: [{name: kube-dlp-proxy, image: kube-dlp:0.1.0, imagePullPolicy: Never, restartPolicy: Always, command: [node, -e, "setInterval(() => {}, 1000)"]}]'
refused "opt-out label" "cannot opt itself out" e2e-helm opt-out-label '{}' "$OPT_OUT_LABEL"
proved "bypass: a pod labelled kubedlp.io/inject: disabled in a Protect namespace is refused at admission: $(reason_of "$msg")"
refused "opt-out annotation" "cannot opt itself out" e2e-helm opt-out-annotation '{}' "$OPT_OUT_ANNOTATION"
proved "bypass: a pod annotated kubedlp.io/inject: disabled in a Protect namespace is refused at admission: $(reason_of "$msg")"
refused "exemption not granted" 'kubedlp.io/exemption "e2e-not-granted" is not granted here' e2e-helm not-granted '{}' "$NOT_GRANTED"
proved "bypass: a pod opting out under an exemption the profile does not grant is refused at admission: $(reason_of "$msg")"
refused "forged status" "container kube-dlp-proxy is not the kube-dlp sidecar" e2e-helm forged-status '{}' "$FORGED_STATUS" "$FORGED_PROXY"
proved "bypass: a pod forging kubedlp.io/sidecar-status with its own container named kube-dlp-proxy is refused at admission (not taken as injected, not injected around it): $(reason_of "$msg")"
# A status naming exactly its containers, with no sidecar at all: the webhook
# trusts no status (nor a uid) it did not just write, and injects the pod.
out="$(bypass_pod e2e-helm forged-status-alone '{}' \
  'annotations: {kubedlp.io/sidecar-status: '"'"'{"mode":"transparent","native":true,"containers":["app"],"initContainers":[]}'"'"'}')" \
  || fail "forged status alone: refused ($out); the webhook should have injected it"
kubectl -n e2e-helm get pod forged-status-alone -o jsonpath='{.spec.initContainers[*].name}' | matches -qw kube-dlp-proxy \
  || fail "forged status alone: admitted without the genuine sidecar"
proved "bypass: a pod forging kubedlp.io/sidecar-status (naming exactly its containers) without any sidecar is not taken as injected: the webhook injects the genuine sidecar"
kubectl -n e2e-helm delete pod forged-status-alone --wait=false >/dev/null 2>&1 || true
# A status naming containers the pod does not have reads as stale (another
# webhook added containers since): the webhook injects the pod again, and
# writes its own status over the forged one.
run_app e2e-helm forged-stale 1 'kubedlp.io/sidecar-status: '"'"'{"mode":"explicit","native":true,"containers":["app","kube-dlp-proxy"],"initContainers":[]}'"'"''
init_names e2e-helm forged-stale | matches -qw kube-dlp-init || fail "forged stale status: e2e-helm/forged-stale has no kube-dlp-init (iptables) container"
status="$(kubectl -n e2e-helm get pod forged-stale -o jsonpath='{.metadata.annotations.kubedlp\.io/sidecar-status}')"
node -e 'const s=JSON.parse(process.argv[1]);process.exit(s.mode==="transparent"&&s.initContainers.includes("kube-dlp-init")&&s.initContainers.includes("kube-dlp-proxy")?0:1)' "$status" \
  || fail "forged stale status: the webhook did not write its own kubedlp.io/sidecar-status over the forged one: $status"
proved "bypass: a pod whose forged kubedlp.io/sidecar-status names containers it does not have is injected with the genuine sidecar and the webhook's own status ($status)"
check_protected e2e-helm forged-stale "forged stale status"
refused "NET_RAW" "NET_ADMIN or NET_RAW" e2e-helm net-raw '{capabilities: {add: [NET_RAW]}}'
proved "bypass: an app container adding NET_RAW is refused at admission: $(reason_of "$msg")"
# The runtime reads capability names the way Go's strings.ToUpper does
# (containerd: "CAP_" + ToUpper): first shown in a namespace that did not opt
# in, where nothing refuses the pod, then refused where capture holds.
DOTLESS_NET_ADMIN=$'net_adm\xc4\xb1n' # U+0131 in UTF-8, whatever the locale
kubectl create namespace e2e-plain >/dev/null 2>&1 || true
kubectl apply -f - >/dev/null <<YAML || fail "the capability probe pod was refused in e2e-plain"
apiVersion: v1
kind: Pod
metadata: {name: caps-probe, namespace: e2e-plain}
spec:
  containers:
    - {name: lower, image: kube-dlp:0.1.0, imagePullPolicy: Never, command: [node, -e, "setInterval(() => {}, 1000)"], securityContext: {capabilities: {add: [net_admin]}}}
    - {name: dotless, image: kube-dlp:0.1.0, imagePullPolicy: Never, command: [node, -e, "setInterval(() => {}, 1000)"], securityContext: {capabilities: {add: [$DOTLESS_NET_ADMIN]}}}
    - {name: none, image: kube-dlp:0.1.0, imagePullPolicy: Never, command: [node, -e, "setInterval(() => {}, 1000)"]}
YAML
await 60 "the capability probe pod e2e-plain/caps-probe to run" kubectl -n e2e-plain wait --for=condition=Ready pod/caps-probe --timeout=2s
has_net_admin() { # <container>: CAP_NET_ADMIN (bit 12) in the container's bounding set
  local bnd
  bnd="$(kubectl -n e2e-plain exec caps-probe -c "$1" -- cat /proc/self/status | awk '/^CapBnd:/ {print $2}')"
  [[ -n "$bnd" ]] || fail "no CapBnd line from e2e-plain/caps-probe container $1"
  (( (16#$bnd >> 12) & 1 ))
}
! has_net_admin none || fail "the runtime grants CAP_NET_ADMIN by default: the capability probe proves nothing"
has_net_admin lower || fail "capabilities.add [net_admin] did not grant CAP_NET_ADMIN on this runtime"
has_net_admin dotless || fail "capabilities.add [$DOTLESS_NET_ADMIN] did not grant CAP_NET_ADMIN on this runtime"
kubectl -n e2e-plain delete pod caps-probe --wait=false >/dev/null
proved "the runtime grants CAP_NET_ADMIN for capabilities.add net_admin and $DOTLESS_NET_ADMIN (dotless i), not by default (shown in e2e-plain, which did not opt in)"
for cap in net_admin Net_Raw all cap_net_admin "$DOTLESS_NET_ADMIN"; do
  refused "capability $cap" "NET_ADMIN or NET_RAW" e2e-helm caps-any-case "{capabilities: {add: [$cap]}}"
done
proved "bypass: app containers adding net_admin, Net_Raw, all, cap_net_admin or $DOTLESS_NET_ADMIN are refused at admission like NET_ADMIN: $(reason_of "$msg")"
refused "privileged" "run privileged" e2e-helm privileged '{privileged: true}'
proved "bypass: a privileged app container is refused at admission: $(reason_of "$msg")"
refused "hostNetwork" "hostNetwork pod's egress bypasses the sidecar" e2e-helm host-network '{}' '' 'hostNetwork: true'
proved "bypass: a hostNetwork pod is refused at admission: $(reason_of "$msg")"
# kubectl debug adds an ephemeral container to a running pod through the
# pods/ephemeralcontainers subresource, which the webhook never sees: the
# ValidatingAdmissionPolicy answers. netadmin adds NET_ADMIN and NET_RAW.
if msg="$(kubectl -n e2e-helm debug app --image=kube-dlp:0.1.0 --image-pull-policy=Never --profile=netadmin -c netadmin-debug -- true 2>&1)"; then
  fail "ephemeral NET_ADMIN: kubectl debug --profile=netadmin added a container to e2e-helm/app"
fi
[[ "$msg" == *"ValidatingAdmissionPolicy"* && "$msg" == *"ephemeral container(s) netadmin-debug add(s) NET_ADMIN or NET_RAW"* ]] \
  || fail "ephemeral NET_ADMIN: kubectl debug was refused without the reason: $msg"
[[ -z "$(kubectl -n e2e-helm get pod app -o jsonpath='{.spec.ephemeralContainers[*].name}')" ]] || fail "ephemeral NET_ADMIN: e2e-helm/app has an ephemeral container"
proved "bypass: kubectl debug --profile=netadmin on the protected pod (an ephemeral container adding NET_ADMIN) is refused by the ValidatingAdmissionPolicy: $(reason_of "$msg")"

# The one way to run without the sidecar in Protect: an exemption the
# profile grants (the operator mirrors it onto the namespace), claimed by
# the pod, counted and audited.
kubectl -n e2e-helm patch securityprofile protect-payments --type=merge \
  -p '{"spec":{"exemptions":[{"name":"e2e-batch","reason":"nightly export job (e2e)"}]}}' >/dev/null \
  || fail "the exemption e2e-batch was refused in the profile"
await 60 "the operator to mirror the exemption e2e-batch onto namespace e2e-helm" \
  sh -c "kubectl get namespace e2e-helm -o jsonpath='{.metadata.annotations.exemption\.kubedlp\.io/e2e-batch}' | grep -q ."
exemptions_counted() { # <namespace> <exemption>: kubedlp_webhook_exemptions_total over every operator replica
  local ip total=0 metrics n
  for ip in $(kubectl -n kube-dlp-system get pods -l app.kubernetes.io/component=operator -o jsonpath='{.items[*].status.podIP}'); do
    metrics="$(curl -fsS --max-time 5 "http://$ip:15091/metrics")" || { echo "the operator's /metrics did not answer on $ip:15091"; return 1; }
    n="$(grep "^kubedlp_webhook_exemptions_total{" <<<"$metrics" | grep "namespace=\"$1\"" | grep "exemption=\"$2\"" | awk '{s += $NF} END {print s + 0}')"
    total=$((total + n))
  done
  echo "$total"
}
counted="$(exemptions_counted e2e-helm e2e-batch)" || fail "exemption: $counted"
[[ "$counted" == 0 ]] || fail "exemption: kubedlp_webhook_exemptions_total counted e2e-batch before any pod claimed it ($counted)"
# The webhook and the policy read the namespace from their caches: a moment after the grant.
end=$((SECONDS + 30))
until out="$(bypass_pod e2e-helm exempt '{}' 'labels: {kubedlp.io/inject: disabled, kubedlp.io/exemption: e2e-batch}')"; do
  ((SECONDS < end)) || fail "exemption: the pod claiming the granted exemption e2e-batch was refused: $out"
  sleep 1
done
await 60 "the exempt pod e2e-helm/exempt to run" kubectl -n e2e-helm wait --for=condition=Ready pod/exempt --timeout=2s
[[ -z "$(init_names e2e-helm exempt)" && "$(kubectl -n e2e-helm get pod exempt -o jsonpath='{.spec.containers[*].name}')" == app ]] \
  || fail "exemption: the exempt pod was injected after all"
proved "exemption: a pod labelled kubedlp.io/inject: disabled and kubedlp.io/exemption: e2e-batch, granted by the profile's spec.exemptions, is admitted without the sidecar and runs"
counted="$(exemptions_counted e2e-helm e2e-batch)" || fail "exemption: $counted"
# At least 1: a create the webhook admitted but a lagging policy cache refused would count too.
((counted >= 1)) || fail "exemption: kubedlp_webhook_exemptions_total{namespace=e2e-helm,exemption=e2e-batch} is $counted on the operator, expected 1"
proved "exemption: counted on the operator's /metrics: kubedlp_webhook_exemptions_total{namespace=\"e2e-helm\",exemption=\"e2e-batch\"} $counted"
exemption_events() { kubectl get events -A --field-selector reason=SidecarExemptionUsed -o jsonpath='{range .items[*]}{.metadata.namespace}: {.message}{"\n"}{end}' | grep -F 'pod e2e-helm/exempt '; }
await 30 "a SidecarExemptionUsed Event for e2e-helm/exempt" exemption_events
proved "exemption: audited as a SidecarExemptionUsed Event (in namespace $(exemption_events | head -n 1))"

# The operator down and the webhook made lenient (failurePolicy Ignore, what
# an administrator might do during an outage): pods would be admitted
# without a sidecar, were it not for the ValidatingAdmissionPolicy, which the
# API server evaluates itself.
kubectl -n kube-dlp-system scale deployment/kube-dlp-operator --replicas=0 >/dev/null
await 120 "the operator's pods to be gone" \
  sh -c "[ -z \"\$(kubectl -n kube-dlp-system get pods -l app.kubernetes.io/component=operator -o name)\" ]"
for webhook in $(kubectl get mutatingwebhookconfigurations -l app.kubernetes.io/name=kube-dlp -o name); do
  kubectl patch "$webhook" --type=json -p '[{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]' >/dev/null \
    || fail "could not set $webhook to failurePolicy Ignore"
done
refused "operator down" "ValidatingAdmissionPolicy" e2e-helm no-sidecar '{}'
[[ "$msg" == *"no kube-dlp sidecar"* ]] || fail "operator down: a pod without the sidecar was refused, but not for that: $msg"
proved "bypass: with the operator scaled to 0 and the webhook ignored, the ValidatingAdmissionPolicy still refuses a pod without the sidecar: ${msg##*denied request: }"
# With no webhook to draw a uid, a pod can carry a sidecar copied from an
# injected pod, uid included, and ask for that uid for its app: the policy
# compares each app's uid with the sidecar's in the same pod.
copy_as_proxy_uid() { # <namespace> <pod> <new name>: the pod's spec, its app set to run as its sidecar's uid
  kubectl -n "$1" get pod "$2" -o json | node -e '
    const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const uid = p.spec.initContainers.find((c) => c.name === "kube-dlp-proxy").securityContext.runAsUser;
    const app = p.spec.containers.find((c) => c.name === "app");
    app.securityContext = { ...(app.securityContext || {}), runAsUser: uid };
    const { labels, annotations } = p.metadata;
    console.log(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: process.argv[1], namespace: p.metadata.namespace, labels, annotations }, spec: p.spec }));' "$3"
}
uid="$(proxy_uid e2e-helm app)"
if msg="$(copy_as_proxy_uid e2e-helm app as-proxy-uid | kubectl create --dry-run=server -f - 2>&1 >/dev/null)"; then
  fail "operator down: a copy of e2e-helm/app whose app runs as its sidecar's uid $uid was admitted"
fi
[[ "$msg" == *ValidatingAdmissionPolicy* && "$msg" == *"as uid $uid, the proxy's uid"* ]] \
  || fail "operator down: the copy whose app runs as the sidecar's uid was refused, but not for that: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses an app running as its sidecar's uid: ${msg##*denied request: }"
refused "operator down, opt-out label" "cannot opt itself out" e2e-helm opt-out-label-2 '{}' "$OPT_OUT_LABEL"
[[ "$msg" == *"ValidatingAdmissionPolicy"* ]] || fail "operator down, opt-out label: not refused by the policy: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses a pod labelled kubedlp.io/inject: disabled: $(reason_of "$msg")"
refused "operator down, opt-out annotation" "cannot opt itself out" e2e-helm opt-out-annotation-2 '{}' "$OPT_OUT_ANNOTATION"
[[ "$msg" == *"ValidatingAdmissionPolicy"* ]] || fail "operator down, opt-out annotation: not refused by the policy: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses a pod annotated kubedlp.io/inject: disabled: $(reason_of "$msg")"
refused "operator down, exemption not granted" 'kubedlp.io/exemption "e2e-not-granted" is not granted here' e2e-helm not-granted-2 '{}' "$NOT_GRANTED"
[[ "$msg" == *"ValidatingAdmissionPolicy"* ]] || fail "operator down, exemption not granted: not refused by the policy: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses a pod claiming an exemption that is not granted: $(reason_of "$msg")"
refused "operator down, forged status" "container kube-dlp-proxy is not the kube-dlp sidecar" e2e-helm forged-status-2 '{}' "$FORGED_STATUS" "$FORGED_PROXY"
[[ "$msg" == *"ValidatingAdmissionPolicy"* ]] || fail "operator down, forged status: not refused by the policy: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses a pod forging kubedlp.io/sidecar-status with its own kube-dlp-proxy container: $(reason_of "$msg")"
refused "operator down, hostNetwork" "hostNetwork pod's egress bypasses the sidecar" e2e-helm host-network-2 '{}' '' 'hostNetwork: true'
[[ "$msg" == *"ValidatingAdmissionPolicy"* ]] || fail "operator down, hostNetwork: not refused by the policy: $msg"
proved "bypass: with the operator down, the ValidatingAdmissionPolicy refuses a hostNetwork pod: $(reason_of "$msg")"
kubectl -n e2e-helm get pod app -o jsonpath='{.status.phase}' | matches -qx Running || fail "the protected pod did not survive the operator's outage"
proved "bypass: the protected pod keeps running (and enforcing) while the operator is down"

step "done in $((SECONDS - T0))s"
echo "E2E PASSED"
