#!/usr/bin/env bash
# Install the test bed's BinderHub runtime (scripts/binder_boot): the genuine BinderHub wheel of
# ../shared/binderhub (jupyterhub/binderhub at b9fad995, not on PyPI) with the versions the
# binderhub-service image pins (its constraints.txt), in a virtualenv. Nothing of it is committed.
#
#   scripts/binder-runtime.sh              install unless cached, link it to .local/binder-runtime
#   scripts/binder-runtime.sh --print-key  print "<key> <cache dir>", install nothing
#
# Cached under $IBH_CACHE/binder-runtime/<key>/ where <key> hashes the wheel, the constraints,
# the recipe below and the Python version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
SOURCE="${BINDERHUB_SOURCE:-$ROOT/../shared/binderhub}"
# Bump when the steps below change how the runtime is made.
RECIPE_VERSION=1
# shellcheck source=scripts/cached-runtime.sh
source "$ROOT/scripts/cached-runtime.sh"

log() { printf '[binder-runtime] %s\n' "$*"; }

shopt -s nullglob
wheels=("$SOURCE"/binderhub-*.whl)
[[ ${#wheels[@]} -eq 1 && -f "$SOURCE/constraints.txt" ]] || {
  log "expected one binderhub-*.whl and constraints.txt in $SOURCE (the genuine BinderHub, test data)" >&2; exit 1; }
wheel="${wheels[0]}"

install_binder_runtime() {
  local dir="$1"
  log "installing BinderHub $(basename "$wheel") with the binderhub-service image's pins"
  "$PYTHON" -m venv "$dir/venv"
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off \
    -c "$SOURCE/constraints.txt" "$wheel[pycurl]" ruamel-yaml certifi
}

key="$( { printf 'recipe %s\n' "$RECIPE_VERSION"; "$PYTHON" --version;
          sha256sum "$wheel" "$SOURCE/constraints.txt" | cut -c1-64; } 2>&1 | sha256sum | cut -c1-12)"
cached_runtime binder-runtime "$key" install_binder_runtime "${1:-}"
