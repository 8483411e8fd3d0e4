# shellcheck shell=bash
# Keeps the cluster on this machine (sourced by scripts/cluster). Every process the cluster starts on the
# host is in one cgroup (v2); nftables marks their packets at OUTPUT and, at POSTROUTING (after
# kube-proxy's address translation, so that this machine still reaches cluster IPs), drops any marked
# packet, or any packet from or to the pod and service ranges (the pods' own, whose processes runc moves
# to kubelet's cgroups), that would leave by the uplink. The drops are counted: the counter must read 0,
# and `status` and `down` print it.

CGROUP="/sys/fs/cgroup/unified/todo-cluster"
GUARD_TABLE="todo_cluster_guard"
GUARD_MARK="0x00100000"  # a bit kube-proxy's marks (0x4000, 0x8000) leave alone

uplinks() {  # the devices of this machine's default routes
  { ip -4 route show default; ip -6 route show default; } | sed -n 's/.* dev \([^ ]*\).*/\1/p' | sort -u
}

guard_up() {
  mkdir -p "$CGROUP"
  local devices
  devices="$(uplinks | sed 's/.*/"&"/' | paste -sd, -)"
  [ -n "$devices" ] || devices='"lo"'  # no uplink at all: nothing can leave, the rules stay inert
  nft -f - <<EOF
table inet $GUARD_TABLE {
  counter drops {}
  chain output {
    type filter hook output priority filter; policy accept;
    socket cgroupv2 level 1 "unified/${CGROUP##*/}" meta mark set meta mark | $GUARD_MARK
  }
  chain postrouting {
    type filter hook postrouting priority srcnat + 10; policy accept;
    oifname { $devices } meta mark & $GUARD_MARK == $GUARD_MARK counter name drops drop
    oifname { $devices } ip saddr { $POD_CIDR, $SERVICE_CIDR } counter name drops drop
    oifname { $devices } ip daddr { $POD_CIDR, $SERVICE_CIDR } counter name drops drop
  }
}
EOF
}

guard_drops() {  # packets dropped so far, or nothing when no guard is in place
  local counter
  counter="$(nft list counter inet "$GUARD_TABLE" drops 2>/dev/null)" || return 0
  sed -n 's/.*packets \([0-9]*\).*/\1/p' <<<"$counter"
}

guard_down() {
  local drops; drops="$(guard_drops)"
  [ -n "$drops" ] || return 0
  nft delete table inet "$GUARD_TABLE"
  say "guard: $drops packets dropped on their way out of this machine (must be 0)"
}

# Processes still in the cluster's cgroup or in kubelet's pod cgroups.
cluster_pids() {
  local procs
  if [ -f "$CGROUP/cgroup.procs" ]; then cat "$CGROUP/cgroup.procs"; fi
  [ -d /sys/fs/cgroup/pids/kubepods ] || return 0
  while IFS= read -r procs; do
    # a pod's cgroup can vanish between the listing and the read: it then holds no process
    if [ -r "$procs" ]; then cat "$procs" 2>/dev/null || continue; fi
  done < <(find /sys/fs/cgroup/pids/kubepods -name cgroup.procs 2>/dev/null)
}

kill_cluster_processes() {
  local pids pid signal
  for signal in TERM KILL; do
    pids="$(cluster_pids | sort -u)"
    [ -n "$pids" ] || return 0
    for pid in $pids; do  # a process may exit between listing and signal: only that is all right
      kill -s "$signal" "$pid" 2>/dev/null || [ ! -e "/proc/$pid" ]
    done
    for _ in $(seq 50); do [ -z "$(cluster_pids)" ] && return 0; sleep 0.2; done
  done
  [ -z "$(cluster_pids)" ] || die "processes of the cluster survive SIGKILL: $(cluster_pids | paste -sd' ')"
}

remove_cgroups() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/todo-cluster; do
    [ -d "$hierarchy" ] && find "$hierarchy" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
