# shellcheck shell=bash
# Helpers shared by scripts/devstack and scripts/cluster: messages, root-only package installs, PID files,
# ports, Go modules. The sourcing script sets TAG (the prefix of its messages).

say() { printf '[%s] %s\n' "${TAG:-scripts}" "$*" >&2; }
die() { say "error: $*"; exit 1; }

apt_install() {  # package, what for
  [ "$(id -u)" -eq 0 ] || die "$2 is not installed; run: sudo apt-get install -y $1"
  say "installing $1 from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$1" >/dev/null
}

port_in_use() {  # port [host]
  (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

pid_alive() {  # pidfile
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_pid() {  # pidfile, what: TERM, then KILL after ten seconds
  pid_alive "$1" || { rm -f "$1"; return 0; }
  local pid; pid="$(cat "$1")"
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$1"
  say "$2 stopped"
}

module_dir() {  # module@version -> its unpacked source in the Go module cache
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml"; }

kafka_libs() {  # [pom]: where scripts/devstack puts the jars of a POM (the broker's by default; a new POM,
  # a new place)
  local pom="${1:-$ROOT/scripts/kafka/pom.xml}"
  printf '%s\n' "$CACHE/kafka-$(kafka_version)-$(sha256sum "$pom" | cut -c1-12)/libs"
}

kafka_tools_libs() { kafka_libs "$ROOT/scripts/kafka/tools/pom.xml"; }
