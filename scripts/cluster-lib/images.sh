# shellcheck shell=bash
# The Docker engine and every image the cluster runs, built here (sourced by scripts/cluster). No registry
# is reachable, so the base is Debian's own: debootstrap, `docker import`. dockerd runs with no bridge, no
# NAT and no iptables rules; builds use the host's network (Debian's mirror and PyPI, like the host).
# Images live in the engine's data root under $CACHE, so a fresh clone on the same machine rebuilds nothing
# but the todo image's changed layers.

DOCKER_ROOT="$CACHE/docker"
DOCKER_RUN="/run/todo-docker"
DOCKER_HOST="unix://$DOCKER_RUN/docker.sock"
export DOCKER_HOST DOCKER_BUILDKIT=0  # Debian's engine and client; its classic builder needs no plugin
DOCKER=/usr/bin/docker                 # Debian's client, the engine's own version
LOCAL_BASE="todo.local/debian:bookworm"
PYTHON_BASE="todo.local/python:3.11-bookworm"
TODO_IMAGE="todo.local/todo:dev"
KAFKA_VERSION="$(kafka_version)"
KAFKA_IMAGE="todo.local/kafka:$KAFKA_VERSION"
# Tagged by what it is built from: a change to either file builds a new image on a machine that has the old
POSTGRES_IMAGE="todo.local/postgres:15-$(cat "$IMAGES/postgres.Dockerfile" "$IMAGES/postgres-node" | sha256sum | cut -c1-12)"
REDIS_IMAGE="todo.local/redis:7"
PAUSE_IMAGE="todo.local/pause:3.10"
COREDNS_IMAGE="todo.local/coredns:${COREDNS_VERSION#v}"
LOCAL_PATH_IMAGE="todo.local/local-path-provisioner:${LOCAL_PATH_VERSION#v}"
METRICS_SERVER_IMAGE="todo.local/metrics-server:${METRICS_SERVER_VERSION#v}"
DAPR_REGISTRY="todo.local/dapr"
DAPR_TAG="${DAPR_VERSION#v}"

engine_up() {
  [ -x /usr/sbin/dockerd ] || apt_install docker.io "Docker engine"
  if pid_alive "$DOCKER_RUN/dockerd.pid"; then return 0; fi
  mkdir -p "$DOCKER_ROOT" "$DOCKER_RUN"
  rm -f "$DOCKER_RUN/docker.sock"
  say "starting the Docker engine (no bridge, no iptables; data in $DOCKER_ROOT)"
  nohup /usr/sbin/dockerd --data-root "$DOCKER_ROOT" --exec-root "$DOCKER_RUN/exec" -H "$DOCKER_HOST" \
    --pidfile "$DOCKER_RUN/dockerd.pid" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --ip-forward=false --userland-proxy=false >"$DOCKER_RUN/dockerd.log" 2>&1 &
  local deadline=$((SECONDS + 60))
  until "$DOCKER" version >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$DOCKER_RUN/dockerd.log" >&2; die "dockerd did not start"; }
    sleep 0.3
  done
}

engine_down() {
  stop_pid "$DOCKER_RUN/dockerd.pid" "Docker engine"
  local mounted
  mounted="$(findmnt -rn -o TARGET | sed -nE "\#^($DOCKER_RUN|$DOCKER_ROOT)/#p" | sort -r)"
  [ -z "$mounted" ] || xargs -r umount -l <<<"$mounted"
  rm -rf "$DOCKER_RUN"
}

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

build_image() {  # tag, context, dockerfile, build args...
  local tag="$1" context="$2" dockerfile="$3"; shift 3
  say "building image $tag"
  "$DOCKER" build --quiet --network host -t "$tag" -f "$dockerfile" "$@" "$context" >/dev/null \
    || die "could not build $tag"
}

# A certificate authority of this machine's for the services that stand in for managed ones (Redis with
# TLS, as DigitalOcean's Valkey): the local images trust it, so daprd verifies the server it talks to.
LOCAL_CA="$CACHE/local-ca"

local_ca() {
  [ -s "$LOCAL_CA/ca.crt" ] && return 0
  mkdir -p "$LOCAL_CA"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=todo local services CA" -keyout "$LOCAL_CA/ca.key" -out "$LOCAL_CA/ca.crt" 2>/dev/null
}

# Debian bookworm from Debian's mirror, trusting this machine's CA bundle (pip needs it behind this
# machine's TLS proxy) and the local services CA; only local images are built on it, never the
# production one.
build_local_base() {
  image_exists "$LOCAL_BASE" && return 0
  command -v debootstrap >/dev/null || apt_install debootstrap debootstrap
  local rootfs="$CACHE/rootfs-bookworm"
  say "making a Debian bookworm root file system with debootstrap"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null \
    || die "debootstrap failed"
  # In the bundle, and where update-ca-certificates finds them again when a package reruns it.
  local_ca
  mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/local/share/ca-certificates/this-machine.crt"
  cp "$LOCAL_CA/ca.crt" "$rootfs/usr/local/share/ca-certificates/todo-local-services.crt"
  cat /etc/ssl/certs/ca-certificates.crt "$LOCAL_CA/ca.crt" >"$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$DOCKER" import \
    -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["bash"]' - "$LOCAL_BASE" >/dev/null || die "docker import failed"
  rm -rf "$rootfs"
}

# A build context of one binary: the Dockerfile copies ${NAME} from it.
build_binary_image() {  # tag, dockerfile, binary, build args...
  local tag="$1" dockerfile="$2" binary="$3" context; shift 3
  image_exists "$tag" && return 0
  context="$(mktemp -d)"
  cp "$binary" "$context/"
  build_image "$tag" "$context" "$dockerfile" --build-arg NAME="$(basename "$binary")" "$@"
  rm -rf "$context"
}

build_kafka_image() {
  image_exists "$KAFKA_IMAGE" && return 0
  "$ROOT/scripts/devstack" up kafka-libs
  local context; context="$(mktemp -d)"
  cp -r "$(kafka_libs)" "$IMAGES/kafka-node" "$context/"
  cp -r "$(kafka_tools_libs)" "$context/tools"
  build_image "$KAFKA_IMAGE" "$context" "$IMAGES/kafka.Dockerfile"
  rm -rf "$context"
}

# The todo image: always built, so that it is the checkout's; docker's layer cache keeps it quick. Besides
# `dev` it is tagged by its content (todo_image_tag), which the cluster's release names.
build_todo_image() {
  build_image "$TODO_IMAGE" "$ROOT" "$ROOT/Dockerfile" --build-arg BASE_IMAGE="$PYTHON_BASE"
  "$DOCKER" tag "$TODO_IMAGE" "${TODO_IMAGE%:*}:$(todo_image_tag)"
}

todo_image_tag() {
  local id; id="$("$DOCKER" image inspect -f '{{.Id}}' "$TODO_IMAGE")" || die "no $TODO_IMAGE: scripts/cluster build"
  id="${id#sha256:}"
  printf 'dev-%s\n' "${id:0:12}"
}

build_images() {
  engine_up
  build_local_base
  image_exists "$PYTHON_BASE" || build_image "$PYTHON_BASE" "$IMAGES" "$IMAGES/python.Dockerfile"
  build_todo_image
  local name
  for name in daprd "${DAPR_CONTROL_PLANE[@]}"; do
    build_binary_image "$DAPR_REGISTRY/$name:$DAPR_TAG" "$IMAGES/dapr.Dockerfile" "$DAPR_BIN/$name"
  done
  build_kafka_image
  image_exists "$POSTGRES_IMAGE" || build_image "$POSTGRES_IMAGE" "$IMAGES" "$IMAGES/postgres.Dockerfile"
  image_exists "$REDIS_IMAGE" || build_image "$REDIS_IMAGE" "$IMAGES" "$IMAGES/redis.Dockerfile"
  build_binary_image "$PAUSE_IMAGE" "$IMAGES/pause.Dockerfile" "$TOOL_BIN/pause"
  build_binary_image "$COREDNS_IMAGE" "$IMAGES/static.Dockerfile" "$TOOL_BIN/coredns"
  build_binary_image "$LOCAL_PATH_IMAGE" "$IMAGES/static.Dockerfile" "$TOOL_BIN/local-path-provisioner"
  build_binary_image "$METRICS_SERVER_IMAGE" "$IMAGES/static.Dockerfile" "$TOOL_BIN/metrics-server"
}

# Every image above, for the cluster's containerd.
cluster_images() {
  local name
  printf '%s\n' "$TODO_IMAGE" "${TODO_IMAGE%:*}:$(todo_image_tag)" "$LOCAL_BASE" "$KAFKA_IMAGE" \
    "$POSTGRES_IMAGE" "$REDIS_IMAGE" "$PAUSE_IMAGE" "$COREDNS_IMAGE" "$LOCAL_PATH_IMAGE" "$METRICS_SERVER_IMAGE"
  for name in daprd "${DAPR_CONTROL_PLANE[@]}"; do printf '%s\n' "$DAPR_REGISTRY/$name:$DAPR_TAG"; done
}
