#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine only, for the e2e: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd + runc,
# kubelet and kube-proxy, with a bridge network (10.244.77.0/24) that no
# traffic leaves. Sourced by test/node/e2e.sh:
#   cluster_up STATE_DIR     starts everything; exports KUBECONFIG, KDLP_NODE_CTR
#   cluster_down             stops it and removes every trace (processes,
#                            mounts, bridge, iptables rules, sysctl), also
#                            after a failed start
# Needs root, the binaries of build-assets.sh and build-node-assets.sh, and
# the Debian packages containerd, runc, containernetworking-plugins, iptables.
# Private state only: containerd and kubelet get their own root, state dir
# and socket under STATE_DIR, so nothing depends on or touches a system-wide
# containerd or kubelet.

KDLP_BRIDGE="${KDLP_BRIDGE:-kdlp-e2e0}"
KDLP_POD_SUBNET="${KDLP_POD_SUBNET:-10.244.77.0/24}"
KDLP_NODE_IP="${KDLP_NODE_IP:-10.244.77.1}"
KDLP_SERVICE_CIDR="10.0.77.0/24"
KDLP_KUBERNETES_SERVICE_IP="10.0.77.1"
KDLP_NODE_NAME="kdlp-e2e-node"
CLUSTER_PIDS=()
CLUSTER_STATE=""
CLUSTER_FORWARD_WAS=""
CLUSTER_LOCALNET_WAS=""

clog() { echo "cluster: $*" >&2; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits for a command to succeed, at most $1 seconds; says what it waited for.
wait_until() { # <seconds> <what> <cmd...>
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then clog "timed out after ${limit}s waiting for $what"; return 1; fi
    sleep 1
  done
}

start_bg() { # <name> <cmd...>: output to $CLUSTER_STATE/logs/<name>.log
  local name=$1; shift
  "$@" > "$CLUSTER_STATE/logs/$name.log" 2>&1 &
  CLUSTER_PIDS+=("$!")
  echo "$!" > "$CLUSTER_STATE/pids/$name"
}

alive() { kill -0 "$(cat "$CLUSTER_STATE/pids/$1")" 2>/dev/null; }

# A dead component ends the wait with its log tail instead of a timeout.
wait_component() { # <seconds> <name> <what> <cmd...>
  local limit=$1 name=$2 what=$3; shift 3
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then
      clog "$name exited while waiting for $what; last lines of its log:"
      tail -n 30 "$CLUSTER_STATE/logs/$name.log" >&2
      return 1
    fi
    if ((SECONDS >= end)); then
      clog "timed out after ${limit}s waiting for $what; last lines of $name's log:"
      tail -n 30 "$CLUSTER_STATE/logs/$name.log" >&2
      return 1
    fi
    sleep 1
  done
}

make_pki() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kdlp-e2e-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  sign() { # <name> <subject> [SANs]
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null
    local ext="$d/$1.ext"
    if [[ -n "${3:-}" ]]; then printf 'subjectAltName=%s\n' "$3" > "$ext"; else : > "$ext"; fi
    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
      -extfile "$ext" -out "$d/$1.crt" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" \
    "IP:$KDLP_NODE_IP,IP:$KDLP_KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # One admin identity for the components and the test (system:masters):
  # the node's own authorization is not what this e2e is about.
  sign admin "/O=system:masters/CN=kdlp-e2e-admin"
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

write_kubeconfig() { # <file> <server>
  local d="$CLUSTER_STATE/pki"
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$2", certificate-authority: "$d/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$d/admin.crt", client-key: "$d/admin.key"}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin, namespace: default}
current-context: e2e
KC
}

setup_network() {
  ip link add "$KDLP_BRIDGE" type bridge
  ip addr add "$KDLP_NODE_IP/${KDLP_POD_SUBNET#*/}" dev "$KDLP_BRIDGE"
  ip link set "$KDLP_BRIDGE" up
  # ClusterIP traffic is DNATed to a pod on the same bridge and forwarded
  # back onto it; the previous value is restored by cluster_down.
  CLUSTER_FORWARD_WAS="$(sysctl -n net.ipv4.ip_forward)"
  sysctl -qw net.ipv4.ip_forward=1
  # kube-proxy is told not to touch it (--iptables-localhost-nodeports=false);
  # restored anyway, in case a version does.
  CLUSTER_LOCALNET_WAS="$(sysctl -n net.ipv4.conf.all.route_localnet)"
  mkdir -p "$CLUSTER_STATE/cni/net.d" "$CLUSTER_STATE/cni/ipam"
  cat > "$CLUSTER_STATE/cni/net.d/10-kdlp-e2e.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "kdlp-e2e",
  "plugins": [
    {
      "type": "bridge", "bridge": "$KDLP_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$CLUSTER_STATE/cni/ipam",
        "ranges": [[{"subnet": "$KDLP_POD_SUBNET", "rangeStart": "${KDLP_NODE_IP%.*}.10", "gateway": "$KDLP_NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI
}

start_containerd() {
  local c="$CLUSTER_STATE/containerd"
  mkdir -p "$c/root" "$c/state"
  cat > "$c/config.toml" <<TOML
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[debug]
  address = "$c/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "kdlp.local/pause:1"
  # The machine lacks CAP_SYS_RESOURCE: containers may only raise their own score.
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # runc, not crun: crun refuses this machine's hybrid cgroups.
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
TOML
  start_bg containerd containerd --config "$c/config.toml"
  KDLP_NODE_CTR=(ctr --address "$c/containerd.sock" -n k8s.io)
  wait_component 60 containerd "the containerd socket" "${KDLP_NODE_CTR[@]}" version
}

import_image() { # <oci archive> <name>
  "${KDLP_NODE_CTR[@]}" images import --index-name "$2" "$1" >&2
}

# The sandbox image: the static pause binary alone, as an OCI archive.
pause_image() {
  local d="$CLUSTER_STATE/pause-image" blob
  mkdir -p "$d/blobs/sha256" "$d/rootfs"
  cp "$NODE_ASSETS/pause" "$d/rootfs/pause"
  tar -C "$d/rootfs" --owner=0 --group=0 -cf "$d/layer.tar" pause
  local layer_digest layer_size config_digest config_size manifest_digest manifest_size diff_id
  layer_digest=$(sha256sum "$d/layer.tar" | cut -d' ' -f1); diff_id=$layer_digest
  layer_size=$(stat -c %s "$d/layer.tar"); mv "$d/layer.tar" "$d/blobs/sha256/$layer_digest"
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$(go env GOARCH 2>/dev/null || echo amd64)" "$diff_id" > "$d/config.json"
  config_digest=$(sha256sum "$d/config.json" | cut -d' ' -f1); config_size=$(stat -c %s "$d/config.json")
  mv "$d/config.json" "$d/blobs/sha256/$config_digest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" > "$d/manifest.json"
  manifest_digest=$(sha256sum "$d/manifest.json" | cut -d' ' -f1); manifest_size=$(stat -c %s "$d/manifest.json")
  mv "$d/manifest.json" "$d/blobs/sha256/$manifest_digest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
    "$manifest_digest" "$manifest_size" > "$d/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$d/oci-layout"
  rm -rf "$d/rootfs"
  tar -C "$d" -cf "$CLUSTER_STATE/pause.oci.tar" oci-layout index.json blobs
  import_image "$CLUSTER_STATE/pause.oci.tar" kdlp.local/pause:1
}

start_control_plane() {
  local etcd_port etcd_peer api_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  start_bg etcd "$KUBEBUILDER_ASSETS/etcd" --name=e2e --data-dir="$CLUSTER_STATE/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="e2e=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync --log-level=warn
  local p="$CLUSTER_STATE/pki"
  KDLP_API_SERVER="https://$KDLP_NODE_IP:$api_port"
  # Bound to the bridge address, which is also what the `kubernetes` Service
  # points at: pods reach the API through kube-proxy like on any cluster.
  # --enable-aggregator-routing: the apiserver calls webhooks at their
  # endpoints, as there is no cluster DNS; for the same reason it reaches the
  # kubelet (logs, exec) by the node's InternalIP, not its name.
  start_bg kube-apiserver "$KUBEBUILDER_ASSETS/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address="$KDLP_NODE_IP" --advertise-address="$KDLP_NODE_IP" \
    --secure-port="$api_port" --cert-dir="$CLUSTER_STATE/apiserver-certs" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" --client-ca-file="$p/ca.crt" \
    --kubelet-client-certificate="$p/admin.crt" --kubelet-client-key="$p/admin.key" \
    --service-account-issuer="https://kubernetes.default.svc" --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" --authorization-mode=Node,RBAC \
    --service-cluster-ip-range="$KDLP_SERVICE_CIDR" --allow-privileged=true --enable-aggregator-routing=true \
    --kubelet-preferred-address-types=InternalIP
  write_kubeconfig "$CLUSTER_STATE/admin.kubeconfig" "$KDLP_API_SERVER"
  export KUBECONFIG="$CLUSTER_STATE/admin.kubeconfig"
  wait_component 120 kube-apiserver "kube-apiserver /readyz" kubectl get --raw /readyz
  start_bg kube-controller-manager "$NODE_ASSETS/kube-controller-manager" --kubeconfig="$KUBECONFIG" \
    --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" \
    --leader-elect=false --secure-port=0 --service-account-private-key-file="$p/sa.key" \
    --root-ca-file="$p/ca.crt" --use-service-account-credentials=false \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --controllers='*'
  start_bg kube-scheduler "$NODE_ASSETS/kube-scheduler" --kubeconfig="$KUBECONFIG" \
    --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" \
    --leader-elect=false --secure-port=0
}

start_kubelet() {
  local k="$CLUSTER_STATE/kubelet" port healthz
  mkdir -p "$k/root" "$k/pod-logs" "$k/plugins"
  port=$(free_port)
  cat > "$k/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $KDLP_NODE_IP
port: $port
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$CLUSTER_STATE/pki/ca.crt"}
authorization: {mode: AlwaysAllow}
# This machine: hybrid cgroup v1 and no CAP_SYS_RESOURCE.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
failSwapOn: false
podLogsDir: "$k/pod-logs"
volumePluginDir: "$k/plugins"
resolvConf: ""
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
containerRuntimeEndpoint: "unix://$CLUSTER_STATE/containerd/containerd.sock"
YAML
  start_bg kubelet "$NODE_ASSETS/kubelet" --config="$k/config.yaml" --kubeconfig="$KUBECONFIG" \
    --root-dir="$k/root" --cert-dir="$k/pki" --hostname-override="$KDLP_NODE_NAME" --node-ip="$KDLP_NODE_IP" -v=1
  wait_component 120 kubelet "node $KDLP_NODE_NAME Ready" \
    kubectl wait --for=condition=Ready "node/$KDLP_NODE_NAME" --timeout=2s
}

start_kube_proxy() {
  # --masquerade-all: a pod reaching a Service backed by a pod on the same
  # bridge gets the reply through the host (no br_netfilter needed).
  start_bg kube-proxy "$NODE_ASSETS/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override="$KDLP_NODE_NAME" \
    --proxy-mode=iptables --masquerade-all --cluster-cidr="$KDLP_POD_SUBNET" --conntrack-max-per-core=0 \
    --iptables-localhost-nodeports=false \
    --healthz-bind-address="127.0.0.1:$(free_port)" --metrics-bind-address="127.0.0.1:$(free_port)"
  wait_component 60 kube-proxy "kube-proxy's Service rules" iptables -t nat -S KUBE-SERVICES
}

remove_kubelet_chains() {
  # The kubelet's own chains (it creates them whatever kube-proxy does):
  # KUBE-FIREWALL hooked into INPUT/OUTPUT, and the canaries and hint.
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    while "$ipt" -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    while "$ipt" -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    for spec in filter:KUBE-FIREWALL filter:KUBE-KUBELET-CANARY nat:KUBE-KUBELET-CANARY mangle:KUBE-KUBELET-CANARY mangle:KUBE-IPTABLES-HINT; do
      "$ipt" -t "${spec%%:*}" -F "${spec#*:}" 2>/dev/null && "$ipt" -t "${spec%%:*}" -X "${spec#*:}" 2>/dev/null
    done
  done
}

# cluster_up <state dir>; needs KUBEBUILDER_ASSETS and NODE_ASSETS.
cluster_up() {
  CLUSTER_STATE=$1
  mkdir -p "$CLUSTER_STATE/logs" "$CLUSTER_STATE/pids" "$CLUSTER_STATE/pki"
  if ip link show "$KDLP_BRIDGE" >/dev/null 2>&1; then
    clog "bridge $KDLP_BRIDGE already exists: another e2e run is active (or left it behind: ip link del $KDLP_BRIDGE)"
    return 1
  fi
  make_pki "$CLUSTER_STATE/pki"
  setup_network
  start_control_plane || return 1
  start_containerd || return 1
  pause_image || return 1
  start_kubelet || return 1
  start_kube_proxy || return 1
  wait_until 60 "the default ServiceAccount" kubectl -n default get serviceaccount default || return 1
  clog "up: $KDLP_API_SERVER, node $KDLP_NODE_NAME, pods on $KDLP_BRIDGE $KDLP_POD_SUBNET"
}

cluster_down() {
  [[ -n "$CLUSTER_STATE" ]] || return 0
  local i pid
  # Pods first, while kubelet and containerd can still stop them cleanly.
  if [[ -n "${KDLP_NODE_CTR:-}" ]] && [[ -S "$CLUSTER_STATE/containerd/containerd.sock" ]]; then
    for pid in kubelet kube-proxy; do [[ -f "$CLUSTER_STATE/pids/$pid" ]] && kill "$(cat "$CLUSTER_STATE/pids/$pid")" 2>/dev/null; done
    local task
    for task in $("${KDLP_NODE_CTR[@]}" tasks ls -q 2>/dev/null); do
      "${KDLP_NODE_CTR[@]}" tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
  fi
  for ((i = ${#CLUSTER_PIDS[@]} - 1; i >= 0; i--)); do kill "${CLUSTER_PIDS[i]}" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # containerd-shim processes outlive containerd: they were started with our
  # state dir in their arguments, which is how they are found (never by name).
  for pid in $(pgrep -f -- "$CLUSTER_STATE/containerd" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  # Pod sandboxes' network namespaces and the kubelet's/containerd's mounts.
  local m
  for m in $(awk -v s="$CLUSTER_STATE" 'index($2, s) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  for m in $(awk '$2 ~ "^/var/run/netns/cni-|^/run/netns/cni-" {print $2}' /proc/self/mounts); do
    # Only namespaces our CNI config created hold an address on our subnet.
    if ip netns exec "$(basename "$m")" ip -4 addr 2>/dev/null | grep -q "inet ${KDLP_NODE_IP%.*}\."; then
      umount -l "$m" 2>/dev/null; rm -f "$m"
    fi
  done
  if [[ -x "${NODE_ASSETS:-}/kube-proxy" ]]; then "$NODE_ASSETS/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  remove_kubelet_chains
  ip link del "$KDLP_BRIDGE" 2>/dev/null || true
  if [[ -n "$CLUSTER_FORWARD_WAS" ]]; then sysctl -qw "net.ipv4.ip_forward=$CLUSTER_FORWARD_WAS"; fi
  if [[ -n "$CLUSTER_LOCALNET_WAS" ]]; then sysctl -qw "net.ipv4.conf.all.route_localnet=$CLUSTER_LOCALNET_WAS"; fi
  if [[ -z "${KDLP_E2E_KEEP_STATE:-}" ]]; then rm -rf "$CLUSTER_STATE"; else clog "state kept in $CLUSTER_STATE"; fi
  CLUSTER_STATE=""
}
