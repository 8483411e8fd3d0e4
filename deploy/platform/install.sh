#!/usr/bin/env bash
# Installs what the todo chart runs on, from the projects' official Helm charts at pinned versions:
# the Dapr control plane (mTLS on, highly available), Redpanda (3 brokers on persistent volumes, the
# topics with replication factor 3) and kube-prometheus-stack (Prometheus operator, Grafana with its
# dashboard sidecar). Idempotent: run it again to upgrade to the versions pinned here.
#
#   deploy/platform/install.sh [--dry-run] [--namespace todo] [--storage-class do-block-storage]
#     [--dapr-chart DIR] [--dapr-values FILE] [--skip redpanda|monitoring]... [--print-topics]
#   --dapr-chart: Dapr's chart from a directory (it is in the dapr Go module) instead of its repository;
#   --dapr-values: more values for it; --skip: leave a part out (scripts/cluster brings its own broker);
#   --print-topics: only print the topics, one a line
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
source "$HERE/../lib.sh"

DAPR_CHART_VERSION="1.18.0"              # the daprd the tests build (scripts/daprd/go.mod)
REDPANDA_CHART_VERSION="26.2.7"
KUBE_PROMETHEUS_STACK_VERSION="82.6.0"
NAMESPACE="todo"
STORAGE_CLASS="do-block-storage"
DAPR_CHART="dapr/dapr"
DAPR_VALUES=()
SKIP=" "
PARTITIONS=6                             # per topic: up to 6 consumers of one group share a topic
# The topics the services publish and read (todo.events.envelope.Topic) and the dead letters.
TOPICS=(task-created task-updated task-completed task-deleted task-due-soon task-due recurring-task-due
  dead-letters)

usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift ;;
    --storage-class) STORAGE_CLASS="${2:?--storage-class needs a value}"; shift ;;
    --dapr-chart) DAPR_CHART="${2:?--dapr-chart needs a directory}"; shift ;;
    --dapr-values) DAPR_VALUES+=(-f "${2:?--dapr-values needs a file}"); shift ;;
    --skip)
      case "${2:-}" in redpanda|monitoring) SKIP+="$2 " ;; *) die "--skip takes redpanda or monitoring" ;; esac
      shift ;;
    --print-topics) printf '%s\n' "${TOPICS[@]}"; exit 0 ;;
    *) common_option "$1" ;;
  esac
  shift
done

need helm kubectl

skipped() { [[ "$SKIP" == *" $1 "* ]]; }

say "Helm repositories"
if [ "$DAPR_CHART" = dapr/dapr ]; then
  run helm repo add dapr https://dapr.github.io/helm-charts --force-update
  run helm repo update dapr
fi
if ! skipped redpanda; then
  run helm repo add redpanda https://charts.redpanda.com --force-update
  run helm repo update redpanda
fi
if ! skipped monitoring; then
  run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
  run helm repo update prometheus-community
fi

say "Dapr $DAPR_CHART_VERSION (namespace dapr-system)"
# A pod that asks for a sidecar (our chart labels them dapr-sidecar=required) is not created without one:
# while the injector is away its creation is refused and retried, where Dapr's default (Ignore) would start
# it bare for good. Only those pods: the control plane's own must start while the injector is away.
run helm upgrade --install dapr "$DAPR_CHART" --version "$DAPR_CHART_VERSION" \
  --namespace dapr-system --create-namespace "${DAPR_VALUES[@]}" \
  --set global.ha.enabled=true --set global.mtls.enabled=true \
  --set dapr_sidecar_injector.webhookFailurePolicy=Fail \
  --set-json 'dapr_sidecar_injector.objectSelector={"matchLabels":{"dapr-sidecar":"required"}}' \
  --wait --timeout 10m

if ! skipped redpanda; then
  say "Redpanda $REDPANDA_CHART_VERSION (namespace $NAMESPACE, 3 brokers on $STORAGE_CLASS)"
  run helm upgrade --install redpanda redpanda/redpanda --version "$REDPANDA_CHART_VERSION" \
    --namespace "$NAMESPACE" --create-namespace -f "$HERE/redpanda-values.yaml" \
    --set storage.persistentVolume.storageClass="$STORAGE_CLASS" --wait --timeout 15m

  say "Topics (replication factor 3, $PARTITIONS partitions)"
  for topic in "${TOPICS[@]}"; do
    if ! "$DRY_RUN" && kubectl -n "$NAMESPACE" exec redpanda-0 -c redpanda -- rpk topic describe "$topic" \
        >/dev/null 2>&1; then
      say "topic $topic exists"
      continue
    fi
    run kubectl -n "$NAMESPACE" exec redpanda-0 -c redpanda -- \
      rpk topic create "$topic" --replicas 3 --partitions "$PARTITIONS" --topic-config min.insync.replicas=2
  done
fi

if ! skipped monitoring; then
  say "kube-prometheus-stack $KUBE_PROMETHEUS_STACK_VERSION (namespace monitoring)"
  run helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
    --version "$KUBE_PROMETHEUS_STACK_VERSION" --namespace monitoring --create-namespace \
    -f "$HERE/monitoring-values.yaml" --wait --timeout 15m
fi

say "Done. Next: the secrets and the app (docs/operations.md, 'From an empty account to a running app')."
