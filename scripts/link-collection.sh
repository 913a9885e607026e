#!/usr/bin/env bash
# Put this checkout on Ansible's collections path as imagebuilding.hubs (no Galaxy needed):
# .local/collections/ansible_collections/imagebuilding/hubs -> the repository root.
# ansible.cfg's collections_path lists .local/collections. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
link="$root/.local/collections/ansible_collections/imagebuilding/hubs"
mkdir -p "$(dirname "$link")"
if [ "$(readlink "$link" 2>/dev/null)" != "$root" ]; then
  ln -sfn "$root" "$link"
  echo "[collection] linked $link -> $root"
fi
