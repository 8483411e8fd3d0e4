#!/usr/bin/env bash
# Deletes what provision.sh created, so that nothing keeps costing money: the cluster (and the load
# balancer and volumes it made), both databases, the registry and the VPC. Asks first unless --yes;
# prints every command instead with --dry-run.
#
#   deploy/doks/teardown.sh [--dry-run] [--yes] [--name todo]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
source "$HERE/../lib.sh"

NAME="todo"
REGISTRY="todo-app"
YES=false

usage() { sed -n '2,7s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --yes) YES=true ;;
    --name) NAME="${2:?--name needs a value}"; shift ;;
    *) common_option "$1" ;;
  esac
  shift
done

need doctl
if ! "$DRY_RUN" && ! "$YES"; then
  read -r -p "Delete cluster $NAME, its databases, registry $REGISTRY and VPC $NAME-vpc for good? [y/N] " answer
  [ "$answer" = y ] || die "nothing deleted"
fi

run doctl kubernetes cluster delete "$NAME" --dangerous --force
pg_id="$(id_named pg-id "$NAME-pg" doctl databases list)"
valkey_id="$(id_named valkey-id "$NAME-valkey" doctl databases list)"
run doctl databases delete "$pg_id" --force
run doctl databases delete "$valkey_id" --force
run doctl registry delete "$REGISTRY" --force
vpc_id="$(id_named vpc-id "$NAME-vpc" doctl vpcs list)"
run doctl vpcs delete "$vpc_id" --force
say "Deleted. Check the bill page for anything left (snapshots, volumes kept by a reclaim policy)."
