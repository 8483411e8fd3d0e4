# shellcheck shell=bash
# One Kubernetes node on this machine, its components as processes (the model is Kubernetes' own
# hack/local-up-cluster.sh; sourced by scripts/cluster): etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, containerd, kubelet and kube-proxy. Pods live on a bridge with a private range and no
# route out; every process started here is in one cgroup, and the guard (guard.sh) drops whatever of
# theirs would leave by the uplink.

STATE="/var/lib/todo-cluster"  # certificates, etcd, containerd, kubelet; removed by `down` (but logs/)
RUN="/run/todo-cluster"        # sockets and PID files
LOGS="$STATE/logs"
PKI="$STATE/pki"
NODE_NAME="todo-node"
ZONE="local-a"                 # the chart spreads replicas over zones: one zone here
BRIDGE="todo-br0"
POD_CIDR="10.201.0.0/24"
NODE_IP="10.201.0.1"           # the bridge's address: the node's, and this machine's as pods see it
SERVICE_CIDR="10.202.0.0/24"
KUBERNETES_SERVICE_IP="10.202.0.1"
DNS_SERVICE_IP="10.202.0.10"
API_PORT=6443
ETCD_PORT=2379                 # client; peer +1. All our ports lie below the ephemeral range
CONTAINERD_SOCK="$RUN/containerd.sock"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
# shellcheck disable=SC2034  # read by scripts/cluster
DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router)
# Host settings kubelet and kube-proxy change (recorded by `up`, restored by `down`), and the directories
# kubelet creates outside its root.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max)
HOST_DIRS=(/var/log/containers /var/log/pods /usr/libexec/kubernetes /var/lib/kubelet)

kubectl_() { "$KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# A daemon in the background, in the cluster's cgroup (so the guard sees its packets), in its own session
# (so a terminal's Ctrl-C does not reach it), its output in logs/<name>.log.
start_daemon() {  # name, command...
  local name="$1"; shift
  # shellcheck disable=SC2016  # $$ and $0 belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$0/cgroup.procs" && exec "${@}"' "$CGROUP" "$@" \
    >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

await() {  # seconds, what, log, command...: until the command succeeds
  local deadline=$((SECONDS + $1)) what="$2" log="$3"; shift 3
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -25 "$log" >&2; die "$what did not come up (log: $log)"; }
    sleep 0.3
  done
}

# --- certificates ---------------------------------------------------------------------------------------

pki_cert() {  # name, subject, subjectAltName or "", extendedKeyUsage[, the signing CA's name]
  local name="$1" ca="${5:-ca}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4"
    [ -z "$3" ] || echo "subjectAltName=$3"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial -days 30 \
    -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

write_kubeconfig() {  # client certificate name
  cat >"$STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: todo-local
    cluster: {server: "https://$NODE_IP:$API_PORT", certificate-authority: "$PKI/ca.crt"}
users:
  - name: $1
    user: {client-certificate: "$PKI/$1.crt", client-key: "$PKI/$1.key"}
contexts:
  - name: todo-local
    context: {cluster: todo-local, user: $1}
current-context: todo-local
EOF
}

make_pki() {
  mkdir -p "$PKI"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=todo-local-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  local sans="IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default"
  sans+=",DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  pki_cert apiserver "/CN=kube-apiserver" "$sans" serverAuth
  pki_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "" clientAuth
  pki_cert kubelet-serving "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME" serverAuth
  pki_cert admin "/O=system:masters/CN=todo-admin" "" clientAuth
  pki_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "" clientAuth
  pki_cert kube-controller-manager "/CN=system:kube-controller-manager" "" clientAuth
  pki_cert kube-scheduler "/CN=system:kube-scheduler" "" clientAuth
  pki_cert kube-proxy "/CN=system:kube-proxy" "" clientAuth
  pki_cert kube-router "/CN=system:kube-router" "" clientAuth
  # The aggregation layer (metrics.k8s.io): the kube-apiserver proxies a caller's request to metrics-server
  # with this client certificate, from a CA of its own, and names the caller in X-Remote-* headers.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=todo-local-front-proxy-ca" -keyout "$PKI/front-proxy-ca.key" -out "$PKI/front-proxy-ca.crt" 2>/dev/null
  pki_cert front-proxy-client "/CN=front-proxy-client" "" clientAuth front-proxy-ca
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/service-accounts.key" 2>/dev/null
  openssl pkey -in "$PKI/service-accounts.key" -pubout -out "$PKI/service-accounts.pub" 2>/dev/null
  local user
  for user in admin kubelet kube-controller-manager kube-scheduler kube-proxy kube-router; do
    write_kubeconfig "$user"
  done
}

# --- the network: a bridge for the pods, a route for the service range ----------------------------------

network_up() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Service addresses are translated by kube-proxy; before its rules exist, a packet to one goes to the
  # bridge (and nowhere) instead of to the uplink.
  ip route add "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  mkdir -p "$STATE/cni"
  cat >"$STATE/cni/10-todo.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "todo-pods",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}]
      }
    }
  ]
}
EOF
}

# --- the components ---------------------------------------------------------------------------------------

etcd_up() {
  start_daemon etcd "$TOOL_BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648 --log-level warn
  await 60 etcd "$LOGS/etcd.log" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

apiserver_up() {
  start_daemon kube-apiserver "$KUBE_BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types InternalIP --enable-aggregator-routing=true \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file "$PKI/service-accounts.pub" \
    --service-account-signing-key-file "$PKI/service-accounts.key"
  await 120 kube-apiserver "$LOGS/kube-apiserver.log" curl -fsS --cacert "$PKI/ca.crt" \
    --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$NODE_IP:$API_PORT/readyz"
}

controllers_up() {
  start_daemon kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$PKI/service-accounts.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key"
  start_daemon kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-scheduler.kubeconfig" --bind-address 127.0.0.1 --leader-elect=false
}

containerd_up() {
  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"
# opt writes to /opt; the others are snapshotters this machine has no use for
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: without this runc cannot lower a container's oom_score_adj
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "10010"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni"
EOF
  start_daemon containerd /usr/bin/containerd --config "$STATE/containerd.toml"
  await 30 containerd "$LOGS/containerd.log" ctr --address "$CONTAINERD_SOCK" version
}

# The images, from the Docker engine that built them (no registry: pods use pullPolicy Never or find the
# exact name present). An image loaded before with the same ID ($STATE/loaded-images) is not loaded again.
load_images() {
  local image id images=() ids=()
  while read -r image; do
    id="$("$DOCKER" image inspect -f '{{.Id}}' "$image")" || die "no image $image: scripts/cluster build"
    grep -qx "$image $id" "$STATE/loaded-images" 2>/dev/null && continue
    images+=("$image"); ids+=("$image $id")
  done < <(cluster_images)
  [ ${#images[@]} -gt 0 ] || return 0
  say "loading ${#images[@]} images into the cluster's containerd"
  "$DOCKER" save "${images[@]}" | ctr --address "$CONTAINERD_SOCK" -n k8s.io images import - >/dev/null \
    || die "could not load the images into containerd"
  printf '%s\n' "${ids[@]}" >>"$STATE/loaded-images"
}

kubelet_up() {
  cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
cgroupDriver: cgroupfs
failCgroupV1: false
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
clusterDNS: ["$DNS_SERVICE_IP"]
clusterDomain: cluster.local
resolvConf: ""
podLogsDir: "$STATE/pod-logs"
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
EOF
  start_daemon kubelet "$KUBE_BIN/kubelet" --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/kubelet.kubeconfig" --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet-pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "topology.kubernetes.io/zone=$ZONE,topology.kubernetes.io/region=local"
}

kube_proxy_up() {
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$STATE/kube-proxy.kubeconfig"}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
iptables: {localhostNodePorts: false}
# 0: leave the host's connection tracking settings as they are
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start_daemon kube-proxy "$KUBE_BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
}

node_ready() {
  [ "$(kubectl_ get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# CoreDNS (cluster names only: nothing outside the cluster to resolve), local-path storage and metrics-server.
addons_up() {
  local manifest
  for manifest in "$LIB"/addons/*.yaml; do
    sed -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" \
      -e "s|@LOCAL_PATH_IMAGE@|$LOCAL_PATH_IMAGE|g" -e "s|@HELPER_IMAGE@|$LOCAL_BASE|g" \
      -e "s|@METRICS_SERVER_IMAGE@|$METRICS_SERVER_IMAGE|g" -e "s|@VOLUMES@|$STATE/volumes|g" "$manifest"
    echo "---"
  done | kubectl_ apply -f - >/dev/null || die "could not apply the cluster add-ons"
  kubectl_ -n kube-system rollout status deployment/coredns --timeout 180s >/dev/null \
    || die "CoreDNS did not become ready"
  kubectl_ -n local-path-storage rollout status deployment/local-path-provisioner --timeout 120s >/dev/null \
    || die "the local-path provisioner did not become ready"
  kubectl_ -n kube-system rollout status deployment/metrics-server --timeout 120s >/dev/null \
    || die "metrics-server did not become ready"
}

# NetworkPolicies enforced, as Cilium enforces them on DOKS: kube-router's firewall alone (no routing, no
# service proxy), in iptables and ipsets. kube-network-policies, the SIG's own, needs nftables' queue
# statement, which this kernel lacks (CONFIG_NFT_QUEUE). Its permissions are an add-on (kube-router.yaml).
network_policies_up() {
  start_daemon kube-router "$TOOL_BIN/kube-router" --kubeconfig "$STATE/kube-router.kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false --hostname-override "$NODE_NAME" \
    --service-cluster-ip-range "$SERVICE_CIDR" --health-port 0 --metrics-port 0
  await 60 kube-router "$LOGS/kube-router.log" iptables -S KUBE-ROUTER-FORWARD
}

# --- host settings ---------------------------------------------------------------------------------------

record_host_settings() {
  local name dir
  for name in "${SYSCTLS[@]}"; do echo "sysctl $name=$(sysctl -n "$name")"; done >"$STATE/host-settings"
  for dir in "${HOST_DIRS[@]}"; do [ -e "$dir" ] || echo "created $dir"; done >>"$STATE/host-settings"
  nft list tables | sed 's/^table /table /' | sed 's/^/existed /' >>"$STATE/host-settings"
}

restore_host_settings() {
  [ -f "$STATE/host-settings" ] || return 0
  local kind value key
  while read -r kind value; do
    case "$kind" in
      sysctl)  # only those still there (a bridge's go with the bridge)
        key="${value%%=*}"
        if [ -e "/proc/sys/${key//.//}" ]; then sysctl -qw "$value" >/dev/null; fi ;;
      created) rm -rf "$value" ;;
    esac
  done <"$STATE/host-settings"
}
