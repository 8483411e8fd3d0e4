# shellcheck shell=bash
# Everything the cluster runs, built here once per machine and cached under $CACHE (sourced by
# scripts/cluster): Kubernetes, etcd, CoreDNS, local-path storage, metrics-server and kube-router from their Go modules (one module of
# ours per project, under scripts/cluster-lib, pinning the version), Dapr's control plane from the dapr
# module the sidecar is built from (scripts/daprd), the pause image's program from Kubernetes' own C file.

# The version of `module` that the go.mod in `dir` requires.
go_mod_version() {  # dir, module
  sed -n "s:^\(require \)\{0,1\}[[:space:]]*$2 \(v[^ ]*\).*:\2:p" "$1/go.mod" | head -1
}

K8S_VERSION="$(go_mod_version "$LIB/kubernetes" k8s.io/kubernetes)"
ETCD_VERSION="$(go_mod_version "$LIB/etcd" go.etcd.io/etcd/server/v3)"
COREDNS_VERSION="$(go_mod_version "$LIB/coredns" github.com/coredns/coredns)"
LOCAL_PATH_VERSION="$(go_mod_version "$LIB/local-path" github.com/rancher/local-path-provisioner)"
METRICS_SERVER_VERSION="$(go_mod_version "$LIB/metrics-server" sigs.k8s.io/metrics-server)"
KUBE_ROUTER_VERSION="$(go_mod_version "$LIB/kube-router" github.com/cloudnativelabs/kube-router/v2)"
DAPR_VERSION="$(go_mod_version "$ROOT/scripts/daprd" github.com/dapr/dapr)"
KUBE_BIN="$CACHE/kubernetes-$K8S_VERSION"
DAPR_BIN="$CACHE/daprd-$DAPR_VERSION"  # daprd itself is scripts/devstack's
TOOL_BIN="$CACHE/cluster-tools-etcd-$ETCD_VERSION-coredns-$COREDNS_VERSION-local-path-$LOCAL_PATH_VERSION"
TOOL_BIN+="-metrics-server-$METRICS_SERVER_VERSION-kube-router-$KUBE_ROUTER_VERSION"
KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
DAPR_CONTROL_PLANE=(operator injector sentry placement)

# Builds the `tool` packages of the Go module in `dir` into `out` (all or nothing: a .tmp directory renamed).
go_build_tools() {  # dir, out, ldflags, package...
  local dir="$1" out="$2" ldflags="$3"; shift 3
  [ -f "$out/.complete" ] && return 0
  command -v go >/dev/null || die "Go is needed to build $(basename "$out")"
  say "building $(basename "$out") from its Go module (first time on this machine)"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  (cd "$dir" && CGO_ENABLED="${CGO:-0}" go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp/" "$@") \
    || die "could not build $(basename "$out")"
  touch "$out.tmp/.complete"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

# Kubernetes reports the version it was built as (helm's kubeVersion checks read it).
kube_version_flags() {
  local minor="${K8S_VERSION#v1.}" pkg flags=""
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

build_kubernetes() {
  go_build_tools "$LIB/kubernetes" "$KUBE_BIN" "$(kube_version_flags)" \
    "${KUBE_COMPONENTS[@]/#/k8s.io/kubernetes/cmd/}"
}

build_cluster_tools() {
  [ -f "$TOOL_BIN/.complete" ] && return 0
  local out="$TOOL_BIN.parts"
  go_build_tools "$LIB/etcd" "$out/etcd" "" go.etcd.io/etcd/server/v3
  go_build_tools "$LIB/coredns" "$out/coredns" "" github.com/coredns/coredns
  go_build_tools "$LIB/local-path" "$out/local-path" "" github.com/rancher/local-path-provisioner
  go_build_tools "$LIB/metrics-server" "$out/metrics-server" "" sigs.k8s.io/metrics-server/cmd/metrics-server
  go_build_tools "$LIB/kube-router" "$out/kube-router" "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  mkdir -p "$out/pause"
  if [ ! -x "$out/pause/pause" ]; then
    local k8s; k8s="$(cd "$LIB/kubernetes" && module_dir "k8s.io/kubernetes@$K8S_VERSION")"
    gcc -Os -static -DVERSION="$K8S_VERSION" -o "$out/pause/pause" "$k8s/build/pause/linux/pause.c" \
      || die "could not compile the pause program"
  fi
  rm -rf "$TOOL_BIN"; mkdir -p "$TOOL_BIN"
  cp "$out/etcd/server" "$TOOL_BIN/etcd"
  cp "$out/coredns/coredns" "$out/local-path/local-path-provisioner" "$out/metrics-server/metrics-server" \
    "$out/kube-router/kube-router" "$out/pause/pause" "$TOOL_BIN/"
  touch "$TOOL_BIN/.complete"
  rm -rf "$out"
}

# The control plane links against the host's glibc like daprd does (the images are Debian bookworm too),
# so it shares daprd's build cache instead of compiling the dapr module a second time.
build_dapr_control_plane() {
  "$ROOT/scripts/devstack" up daprd
  [ -x "$DAPR_BIN/sentry" ] && return 0
  CGO=1 go_build_tools "$ROOT/scripts/daprd" "$DAPR_BIN/control-plane" \
    "-X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" \
    "${DAPR_CONTROL_PLANE[@]/#/github.com/dapr/dapr/cmd/}"
  mv "$DAPR_BIN"/control-plane/{operator,injector,sentry,placement} "$DAPR_BIN/"
  rm -rf "$DAPR_BIN/control-plane"
}

build_all() {
  build_kubernetes
  build_cluster_tools
  build_dapr_control_plane
  "$ROOT/scripts/devstack" up tools
}
