#!/usr/bin/env bash
# Install the hub runtime of the test bed's hub boot (scripts/hub_boot): the Python side of
# z2jh 4.4.0's hub image (tools/hub-runtime/requirements.txt) in a virtualenv and
# configurable-http-proxy 5.2.0 (tools/hub-runtime/package.json and its lock file) from npm.
#
#   scripts/hub-runtime.sh              install unless cached, link it to .local/hub-runtime
#   scripts/hub-runtime.sh --print-key  print "<key> <cache dir>", install nothing
#
# Cached under $IBH_CACHE/hub-runtime/<key>/ where <key> hashes the pins, the recipe below and
# the Python and Node.js versions: a changed pin installs once, everything else is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
PINS="$ROOT/tools/hub-runtime"
# Bump when the steps below change how the runtime is made.
RECIPE_VERSION=1
# shellcheck source=scripts/cached-runtime.sh
source "$ROOT/scripts/cached-runtime.sh"

log() { printf '[hub-runtime] %s\n' "$*"; }

command -v node >/dev/null && command -v npm >/dev/null || {
  log "node and npm are needed for configurable-http-proxy (Debian: apt-get install nodejs npm)" >&2; exit 1; }

install_hub_runtime() {
  local dir="$1"
  log "installing the hub's Python side (jupyterhub, kubespawner, oauthenticator, fancy-profiles, ...)"
  "$PYTHON" -m venv "$dir/venv"
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off \
    -r "$PINS/requirements.txt"
  log "installing configurable-http-proxy"
  cp "$PINS/package.json" "$PINS/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

key="$( { printf 'recipe %s\n' "$RECIPE_VERSION"; "$PYTHON" --version; node --version;
          cd "$PINS" && sha256sum requirements.txt package.json package-lock.json; } 2>&1 | sha256sum | cut -c1-12)"
cached_runtime hub-runtime "$key" install_hub_runtime "${1:-}"
