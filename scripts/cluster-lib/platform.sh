# shellcheck shell=bash
# What the chart runs on, and the chart, on the one-machine cluster (sourced by scripts/cluster). Dapr
# goes through deploy/platform/install.sh, as on DigitalOcean, with its chart from the dapr module; the
# managed services are stood in for by deploy/platform/local (Kafka for Redpanda, PostgreSQL, Redis with
# TLS for Valkey); the secrets are made as deploy/doks/provision.sh makes them there.

APP_NAMESPACE="${TODO_CLUSTER_NAMESPACE:-todo}"
APP_RELEASE="todo"
CHART="$ROOT/deploy/helm/todo"
LOCAL_PLATFORM="$ROOT/deploy/platform/local"
TOOLS_PATH="$RUN/bin"  # kubectl and helm under their own names, for install.sh and people

tools_path() {
  local helm
  helm="$("$ROOT/scripts/devstack" env | sed -n 's/^TODO_HELM=//p')"
  [ -x "$helm" ] || die "helm is not built: scripts/devstack up tools"
  mkdir -p "$TOOLS_PATH"
  ln -sf "$helm" "$TOOLS_PATH/helm"
  ln -sf "$KUBE_BIN/kubectl" "$TOOLS_PATH/kubectl"
}
HELM="$TOOLS_PATH/helm"

helm_() { KUBECONFIG="$KUBECONFIG_ADMIN" "$HELM" "$@"; }

# A Secret made once: later runs keep its values (so a database keeps its password).
ensure_secret() {  # name, kubectl create secret arguments...
  local name="$1"; shift
  kubectl_ -n "$APP_NAMESPACE" get secret "$name" >/dev/null 2>&1 && return 0
  kubectl_ -n "$APP_NAMESPACE" create secret "$@" >/dev/null
}

redis_certificate() {  # dir: a server certificate for the redis Service from the local services CA
  local dns="redis.$APP_NAMESPACE.svc.cluster.local"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$dns" \
    -keyout "$1/tls.key" -out "$1/tls.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:redis.%s.svc,DNS:redis\nextendedKeyUsage=serverAuth\n' \
    "$dns" "$APP_NAMESPACE" >"$1/tls.ext"
  openssl x509 -req -in "$1/tls.csr" -CA "$LOCAL_CA/ca.crt" -CAkey "$LOCAL_CA/ca.key" -CAcreateserial \
    -days 365 -extfile "$1/tls.ext" -out "$1/tls.crt" 2>/dev/null
}

platform_secrets() {
  kubectl_ create namespace "$APP_NAMESPACE" --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
  local pg_password redis_password dir
  if kubectl_ -n "$APP_NAMESPACE" get secret postgresql-auth >/dev/null 2>&1; then  # keep the database's
    pg_password="$(kubectl_ -n "$APP_NAMESPACE" get secret postgresql-auth -o jsonpath='{.data.password}' | base64 -d)"
  else
    pg_password="$(openssl rand -hex 16)"
  fi
  redis_password="$(openssl rand -hex 16)"
  ensure_secret postgresql-auth generic postgresql-auth --from-literal=password="$pg_password"
  ensure_secret todo-secrets generic todo-secrets \
    --from-literal=database-url="postgresql+asyncpg://todo:$pg_password@postgresql.$APP_NAMESPACE.svc.cluster.local:5432/todo" \
    --from-literal=jwt-secret="$(openssl rand -hex 32)" --from-literal=smoke-password="$(openssl rand -hex 12)"
  ensure_secret todo-dapr-api-token generic todo-dapr-api-token --from-literal=token="$(openssl rand -hex 24)"
  ensure_secret todo-valkey generic todo-valkey \
    --from-literal=host="redis.$APP_NAMESPACE.svc.cluster.local:6379" --from-literal=password="$redis_password"
  if ! kubectl_ -n "$APP_NAMESPACE" get secret redis-tls >/dev/null 2>&1; then
    dir="$(mktemp -d)"
    redis_certificate "$dir"
    ensure_secret redis-tls tls redis-tls --cert "$dir/tls.crt" --key "$dir/tls.key"
    rm -rf "$dir"
  fi
}

# Kafka, PostgreSQL and Redis in the app's namespace, ready; then the topics install.sh names.
local_services_up() {
  local manifest
  for manifest in kafka postgresql redis; do
    sed -e "s|@KAFKA_IMAGE@|$KAFKA_IMAGE|g" -e "s|@POSTGRES_IMAGE@|$POSTGRES_IMAGE|g" \
      -e "s|@REDIS_IMAGE@|$REDIS_IMAGE|g" "$LOCAL_PLATFORM/$manifest.yaml"
    echo "---"
  done | kubectl_ -n "$APP_NAMESPACE" apply -f - >/dev/null || die "could not apply deploy/platform/local"
  kubectl_ -n "$APP_NAMESPACE" rollout status statefulset/redpanda --timeout 300s >/dev/null \
    || { diagnose; die "Kafka did not become ready"; }
  kubectl_ -n "$APP_NAMESPACE" rollout status statefulset/postgresql --timeout 180s >/dev/null \
    || { diagnose; die "PostgreSQL did not become ready"; }
  kubectl_ -n "$APP_NAMESPACE" rollout status deployment/redis --timeout 120s >/dev/null \
    || { diagnose; die "Redis did not become ready"; }
  kafka_topics
}

# The topics of deploy/platform/install.sh with replication factor 3 and min.insync.replicas 2, made by
# Kafka's own tool inside a broker (one JVM for all of them would be quicker; one a topic reads plainly).
kafka_topics() {
  local topics
  topics="$("$ROOT/deploy/platform/install.sh" --print-topics | paste -sd' ')"
  say "topics: $topics"
  # shellcheck disable=SC2016  # expanded inside the broker
  kubectl_ -n "$APP_NAMESPACE" exec redpanda-0 -c kafka -- sh -c '
    for topic in '"$topics"'; do
      java -cp "$KAFKA_TOOLS_CLASSPATH" org.apache.kafka.tools.TopicCommand --bootstrap-server localhost:9093 \
        --create --if-not-exists --topic "$topic" --partitions 6 --replication-factor 3 \
        --config min.insync.replicas=2 >/dev/null || exit 1
    done' || die "could not create the topics"
}

platform_up() {
  tools_path
  pid_alive "$RUN/kube-apiserver.pid" || die "no cluster runs: scripts/cluster up"
  local dapr_chart
  dapr_chart="$(cd "$ROOT/scripts/daprd" && module_dir "github.com/dapr/dapr@$DAPR_VERSION")/charts/dapr"
  say "Dapr's control plane, through deploy/platform/install.sh"
  PATH="$TOOLS_PATH:$PATH" KUBECONFIG="$KUBECONFIG_ADMIN" "$ROOT/deploy/platform/install.sh" \
    --dapr-chart "$dapr_chart" --dapr-values "$LOCAL_PLATFORM/dapr-values.yaml" \
    --skip redpanda --skip monitoring || { diagnose dapr-system; die "Dapr's control plane did not install"; }
  say "Kafka (3 brokers), PostgreSQL and Redis in namespace $APP_NAMESPACE"
  platform_secrets
  local_services_up
}

app_up() {  # extra helm arguments...
  tools_path
  say "the todo chart (values-local.yaml), as a user installs it"
  # The image by its content's tag: an upgrade after a rebuild rolls the pods onto it.
  if ! helm_ upgrade --install "$APP_RELEASE" "$CHART" --namespace "$APP_NAMESPACE" \
      -f "$CHART/values-local.yaml" --set image.tag="$(todo_image_tag)" --wait --timeout 5m "$@"; then
    diagnose
    die "the chart did not install"
  fi
  say "helm test (todo smoke inside the cluster)"
  helm_ test "$APP_RELEASE" --namespace "$APP_NAMESPACE" --logs --timeout 3m \
    || { diagnose; die "helm test failed"; }
}

# Pods that are not ready, by name, with what keeps them (a missing image, a missing secret, a crash):
# one line per container, "pod container reason".
# shellcheck disable=SC2016  # a kubectl go-template, not shell
NOT_READY_TEMPLATE='{{range .items}}{{$pod := .metadata.name}}
{{- range .status.initContainerStatuses}}{{if .state.waiting}}{{$pod}} {{.name}} {{.state.waiting.reason}}: {{.state.waiting.message}}{{"\n"}}{{end}}{{end}}
{{- range .status.containerStatuses}}{{if not .ready}}{{$pod}} {{.name}} {{if .state.waiting}}{{.state.waiting.reason}}: {{.state.waiting.message}}{{else if .state.terminated}}{{.state.terminated.reason}} (exit {{.state.terminated.exitCode}}){{else}}running, not ready{{end}}{{"\n"}}{{end}}{{end}}
{{- end}}'

diagnose() {  # [namespace]
  local namespace="${1:-$APP_NAMESPACE}" pod container reason
  kubectl_ -n "$namespace" get pods -o go-template="$NOT_READY_TEMPLATE" 2>/dev/null \
    | while read -r pod container reason; do
      say "pod $namespace/$pod, container $container: $reason"
    done
  kubectl_ -n "$namespace" get pods --field-selector=status.phase=Pending -o name 2>/dev/null \
    | while read -r pod; do
      say "${pod#pod/} is Pending: $(kubectl_ -n "$namespace" get "$pod" \
        -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')"
    done
}

service_url() {  # Service name: http://<cluster IP>[:<port>], which this machine reaches
  local address
  address="$(kubectl_ -n "$APP_NAMESPACE" get service "$1" \
    -o jsonpath='{.spec.clusterIP}:{.spec.ports[0].port}' 2>/dev/null)" || return 1
  [ -n "$address" ] && printf 'http://%s\n' "${address%:80}"
}

print_urls() {
  say "the web UI: $(service_url "$APP_RELEASE-frontend")"
  say "the API:    $(service_url "$APP_RELEASE-backend") (try /healthz, /docs)"
  say "kubectl:    export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$TOOLS_PATH:\$PATH"
  say "remove it all with: make cluster-down"
}
