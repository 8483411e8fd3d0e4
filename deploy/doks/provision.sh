#!/usr/bin/env bash
# Creates todo's DigitalOcean infrastructure with doctl: a VPC, the Kubernetes cluster (3 nodes,
# autoscaling 2-5), the container registry (linked to the cluster), managed PostgreSQL and managed Valkey
# (Redis) inside the VPC with their firewalls opened to the cluster only, then the kubeconfig and the
# Secrets the chart references. Prints every command instead with --dry-run.
#
#   deploy/doks/provision.sh [--dry-run] [--region fra1] [--name todo] [--node-size s-4vcpu-8gb]
#
# Needs doctl (authenticated: doctl auth init), kubectl and openssl. Costs money: see docs/operations.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
source "$HERE/../lib.sh"

REGION="fra1"
NAME="todo"
NODE_SIZE="s-4vcpu-8gb"                # Redpanda, Dapr HA and Prometheus share the nodes with the app
K8S_VERSION="1.33"                 # doctl takes the newest patch of this minor
VPC_RANGE="10.120.0.0/20"          # values-doks.yaml's NetworkPolicies allow the databases in this range
REGISTRY="todo-app"                # image: registry.digitalocean.com/todo-app/todo (values.yaml)
NAMESPACE="todo"

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --region) REGION="${2:?--region needs a value}"; shift ;;
    --name) NAME="${2:?--name needs a value}"; shift ;;
    --node-size) NODE_SIZE="${2:?--node-size needs a value}"; shift ;;
    *) common_option "$1" ;;
  esac
  shift
done

need doctl kubectl openssl
"$DRY_RUN" && say "dry run: nothing is created; the commands follow, IDs shown as <placeholders>"

say "VPC $NAME-vpc ($VPC_RANGE, $REGION)"
vpc_id="$(capture vpc-id doctl vpcs create --name "$NAME-vpc" --region "$REGION" --ip-range "$VPC_RANGE" \
  --format ID --no-header)"

say "Kubernetes cluster $NAME: 3 x $NODE_SIZE, autoscaling 2-5"
run doctl kubernetes cluster create "$NAME" --region "$REGION" --version "$K8S_VERSION" \
  --vpc-uuid "$vpc_id" --auto-upgrade --surge-upgrade \
  --node-pool "name=$NAME-pool;size=$NODE_SIZE;count=3;auto-scale=true;min-nodes=2;max-nodes=5" --wait
cluster_id="$(capture cluster-id doctl kubernetes cluster get "$NAME" --format ID --no-header)"
run doctl kubernetes cluster kubeconfig save "$NAME"

say "Container registry $REGISTRY, readable by the cluster (secret registry-$REGISTRY in every namespace)"
run doctl registry create "$REGISTRY" --subscription-tier basic --region "$REGION"
run doctl kubernetes cluster registry add "$NAME"

say "Managed PostgreSQL $NAME-pg (2 nodes: a standby for failover) and Valkey $NAME-valkey, in the VPC"
pg_id="$(capture pg-id doctl databases create "$NAME-pg" --engine pg --version 17 --region "$REGION" \
  --size db-s-1vcpu-2gb --num-nodes 2 --private-network-uuid "$vpc_id" --wait --format ID --no-header)"
valkey_id="$(capture valkey-id doctl databases create "$NAME-valkey" --engine valkey --version 8 \
  --region "$REGION" --size db-s-1vcpu-1gb --num-nodes 1 --private-network-uuid "$vpc_id" --wait \
  --format ID --no-header)"
run doctl databases db create "$pg_id" todo

say "Database firewalls: only the cluster's nodes may connect"
run doctl databases firewalls append "$pg_id" --rule "k8s:$cluster_id"
run doctl databases firewalls append "$valkey_id" --rule "k8s:$cluster_id"

say "Secrets in namespace $NAMESPACE (values never printed)"
pg="$(capture 'pg-host> <pg-port> <pg-user> <pg-password' doctl databases connection "$pg_id" --private \
  --format Host,Port,User,Password --no-header)"
valkey="$(capture 'valkey-host> <valkey-port> <valkey-password' doctl databases connection "$valkey_id" \
  --private --format Host,Port,Password --no-header)"
read -r pg_host pg_port pg_user pg_password <<<"$pg"
read -r valkey_host valkey_port valkey_password <<<"$valkey"
database_url="postgresql+asyncpg://$pg_user:$pg_password@$pg_host:$pg_port/todo?ssl=require"
run kubectl create namespace "$NAMESPACE"
# Through stdin, so that no password appears in a process list or a dry run's output.
secret() {  # name, then key=value pairs
  local name="$1"; shift
  if "$DRY_RUN"; then
    printf '+ kubectl -n %s create secret generic %s --from-env-file=/dev/stdin  # keys:' "$NAMESPACE" "$name" >&2
    printf ' %s' "${@%%=*}" >&2; printf '\n' >&2
  else
    printf '%s\n' "$@" | kubectl -n "$NAMESPACE" create secret generic "$name" --from-env-file=/dev/stdin
  fi
}
jwt_secret="<random>"
if ! "$DRY_RUN"; then jwt_secret="$(openssl rand -hex 32)"; fi
secret todo-secrets "database-url=$database_url" "jwt-secret=$jwt_secret"
secret todo-valkey "host=$valkey_host:$valkey_port" "password=$valkey_password"
dapr_token="<random>"
if ! "$DRY_RUN"; then dapr_token="$(openssl rand -hex 24)"; fi
secret todo-dapr-api-token "token=$dapr_token"

say "Done. Next: deploy/platform/install.sh, then the app (docs/operations.md)."
