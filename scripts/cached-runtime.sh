# Sourced by scripts/hub-runtime.sh and scripts/binder-runtime.sh: a runtime installed once per
# key under $IBH_CACHE/<name>/<key>/ and linked to .local/<name>.
#
#   cached_runtime <name> <key> <install function> [--print-key]
#
# With --print-key: print "<key> <cache dir>" and install nothing. Otherwise one installer at a
# time (flock; two runs of `make pytest` may start together); a finished install is marked
# .complete, so an interrupted one is made again from scratch; the install function gets the
# directory (a virtualenv records its own path, so it is made in place).
cached_runtime() {
  local name="$1" key="$2" install="$3" mode="${4:-}"
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local cache="${IBH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imagebuilding-hubs}"
  local dir="$cache/$name/$key" link="$root/.local/$name"
  if [[ "$mode" == "--print-key" ]]; then
    printf '%s %s\n' "$key" "$dir"
    return 0
  fi
  mkdir -p "$cache/$name"
  exec 9>"$dir.lock"
  flock 9
  if [[ -f "$dir/.complete" ]]; then
    printf '[%s] cached (%s)\n' "$name" "$dir"
  else
    local start=$SECONDS
    rm -rf "$dir"
    mkdir -p "$dir"
    "$install" "$dir"
    touch "$dir/.complete"
    printf '[%s] installed in %s s (%s)\n' "$name" "$((SECONDS - start))" "$dir"
  fi
  mkdir -p "$(dirname "$link")"
  ln -sfn "$dir" "$link"
}
