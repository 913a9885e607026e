#!/usr/bin/env bash
# The execution environment's build context (make ee): stage what is not a Python package -
# the collection artifact, helm and the helm-diff plugin built from their pinned Go modules -
# under .local/ee/files, then ansible-builder create writes .local/ee/context (Containerfile
# and _build/). Building the image needs a container engine: docs/awx.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL="$ROOT/.local"
IBH_CACHE="${IBH_CACHE:-$HOME/.cache/imagebuilding-hubs}"
HELM_PLUGINS="${HELM_PLUGINS:-$IBH_CACHE/helm-plugins}"
FILES="$LOCAL/ee/files"
CONTEXT="${EE_CONTEXT:-$LOCAL/ee/context}"
PATH="$LOCAL/bin:$ROOT/.venv/bin:$PATH"

for need in "$LOCAL/bin/helm" "$HELM_PLUGINS/diff/plugin.yaml" "$HELM_PLUGINS/diff/bin/diff"; do
  [[ -e "$need" ]] || { echo "ee: $need is missing: run make tools" >&2; exit 1; }
done
rm -rf "$FILES" "$CONTEXT"
mkdir -p "$FILES/helm-plugins" "$LOCAL/ee/dist"
echo "[ee] collection artifact"
ansible-galaxy collection build --force --output-path "$LOCAL/ee/dist" "$ROOT" > /dev/null
artifact="$(ls -t "$LOCAL"/ee/dist/imagebuilding-hubs-*.tar.gz | head -1)"
cp "$artifact" "$FILES/imagebuilding-hubs.tar.gz"
cp -L "$LOCAL/bin/helm" "$FILES/helm"
cp -RL "$HELM_PLUGINS/diff" "$FILES/helm-plugins/diff"
echo "[ee] ansible-builder create -> ${CONTEXT#"$ROOT"/}"
ansible-builder create --file "$ROOT/execution-environment.yml" --context "$CONTEXT" --output-filename Containerfile \
  > "$LOCAL/ee/create.log"
echo "[ee] build it where a container engine runs: podman build -f ${CONTEXT#"$ROOT"/}/Containerfile ${CONTEXT#"$ROOT"/}"
