# shellcheck shell=bash
# Shared by the deploy scripts: `--dry-run` prints every command instead of running it, and a value a
# command would have returned (an ID, an address) becomes a <placeholder> so the rest still reads right.

DRY_RUN=false

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The options every script takes (the script defines `usage`).
common_option() {
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
}

# Runs a command, or prints it in a dry run: words with shell metacharacters in single quotes, so that a
# line can be pasted once its <placeholders> are filled in.
run() {
  if "$DRY_RUN"; then
    local word line="+"
    for word in "$@"; do
      if [[ "$word" =~ ^[][A-Za-z0-9_./:=@%+,\<\>-]+$ ]]; then
        line+=" $word"
      else
        line+=" '${word//\'/\'\\\'\'}'"
      fi
    done
    printf '%s\n' "$line" >&2  # stderr, like say: one stream, in order, whatever captures stdout
  else
    "$@"
  fi
}

# Runs a command and prints its output, or in a dry run prints the command and then the placeholder.
capture() {
  local placeholder="$1"; shift
  if "$DRY_RUN"; then
    run "$@"
    printf '<%s>\n' "$placeholder"
  else
    "$@"
  fi
}

# The ID of the resource called `name` in a doctl listing (`list_command...`), or a placeholder.
id_named() {
  local placeholder="$1" name="$2"; shift 2
  if "$DRY_RUN"; then
    capture "$placeholder" "$@" --format ID,Name --no-header
  else
    "$@" --format ID,Name --no-header | awk -v n="$name" '$2 == n {print $1}'
  fi
}

# Fails early, naming what is missing, unless this is a dry run (which needs none of the tools).
need() {
  "$DRY_RUN" && return 0
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is not installed (see docs/operations.md, 'Tools')"
  done
}
