# shellcheck shell=bash
# Removes everything a cluster run made, whether it was stopped or killed (sourced by scripts/cluster):
# processes, iptables chains, mounts, network namespaces and devices, the guard, host settings, cgroups.
# `up` runs it first, so a cluster starts cleanly over the leftovers of a run that was killed.

# Rules and chains of kube-proxy and kubelet (KUBE-*) and of the CNI plugins (CNI-*), in every table.
remove_kube_chains() {
  local tool table rule chain
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    for table in filter nat mangle; do
      "$tool" -t "$table" -S >/dev/null 2>&1 || continue
      while read -r rule; do
        # a rule as iptables -S prints it: its comment quoted ("kube-router netpol - ..."), so parsed by eval
        eval "\"\$tool\" -t \"\$table\" ${rule/#-A/-D}"
      done < <("$tool" -t "$table" -S | grep -E -- '^-A .* -j (KUBE-|CNI-)' | grep -vE -- '^-A (KUBE-|CNI-)')
      for chain in $("$tool" -t "$table" -S | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
        "$tool" -t "$table" -F "$chain"
      done
      for chain in $("$tool" -t "$table" -S | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
        "$tool" -t "$table" -X "$chain"
      done
    done
  done
}

# kube-router's sets (its chains, KUBE-*, went with the others above).
remove_kube_ipsets() {
  command -v ipset >/dev/null || return 0
  local set
  for set in $(ipset list -n | grep -E '^(KUBE-|kube-router)'); do ipset destroy "$set"; done
}

# nftables tables that iptables made for the cluster (none existed before `up`) and are empty again.
remove_new_iptables_tables() {
  [ -f "$STATE/host-settings" ] || return 0
  local family name
  while read -r family name; do
    grep -qx "existed table $family $name" "$STATE/host-settings" && continue
    case "$name" in filter|nat|mangle|raw|security) ;; *) continue ;; esac
    if ! nft list table "$family" "$name" | grep -qE '^\s+(ip|ip6|meta|counter|jump|oif|iif|ct|fib|mark|tcp|udp|socket|xt)'; then
      nft delete table "$family" "$name"
    fi
  done < <(nft list tables | awk '$1 == "table" && ($2 == "ip" || $2 == "ip6") {print $2, $3}')
}

unmount_cluster() {
  local mounted
  mounted="$(findmnt -rn -o TARGET | sed -nE "\#^($STATE|$RUN|/run/netns/cni-|/var/run/netns/cni-)#p" | sort -r)"
  # A target listed twice is mounted twice: unmount while it is mounted. One that cannot be reached (a
  # later bind mount of /run/netns onto itself, as `ip netns add` makes, hides those below it) is left.
  local target
  for target in $mounted; do
    while mountpoint -q "$target"; do
      umount -l "$target" 2>/dev/null || { say "left mounted (hidden by a later mount): $target"; break; }
    done
  done
  local ns
  for ns in /run/netns/cni-*; do [ -e "$ns" ] && ip netns delete "${ns##*/}"; done
  return 0
}

cluster_down() {
  kill_cluster_processes
  # kube-proxy's own cleanup first; whatever it leaves (or if it fails) remove_kube_chains takes away
  if [ -x "$KUBE_BIN/kube-proxy" ] && ! "$KUBE_BIN/kube-proxy" --cleanup >/dev/null 2>&1; then
    say "kube-proxy --cleanup did not finish; removing its chains one by one"
  fi
  remove_kube_chains
  remove_kube_ipsets
  unmount_cluster
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE"; fi
  guard_down
  restore_host_settings
  remove_new_iptables_tables
  remove_cgroups
  local keep_logs
  if [ -d "$LOGS" ]; then keep_logs="$(mktemp -d)"; mv "$LOGS" "$keep_logs/"; fi
  rm -rf "$STATE" "$RUN"
  if [ -n "${keep_logs:-}" ]; then mkdir -p "$STATE"; mv "$keep_logs/logs" "$STATE/"; rmdir "$keep_logs"; fi
}
