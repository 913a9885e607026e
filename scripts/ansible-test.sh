#!/usr/bin/env bash
# ansible-test sanity and units on this collection, offline from Galaxy:
#   scripts/ansible-test.sh sanity|units [ansible-test options]
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>/: the files
# git knows are copied there (under $TMPDIR). It runs
# from a venv of its own (ansible-core at the version the pinned ansible package brings, cached
# under $IBH_CACHE) and installs each test's requirements from PyPI into venvs of its own under
# ~/.ansible/test; its pip bootstrap download is replaced by tools/ansible-test/get_pip.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command="${1:?usage: scripts/ansible-test.sh sanity|units [options]}"
shift
cache="${IBH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imagebuilding-hubs}"
core="$("$root/.venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
python="$("$root/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv="$cache/ansible-test/ansible-core-$core"
if [ ! -x "$venv/bin/ansible-test" ]; then
  echo "[ansible-test] installing ansible-core $core into $venv"
  rm -rf "$venv" && python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "ansible-core==$core"
fi
pip_version="$("$venv/bin/python" - <<'PY'
import re, ansible_test, pathlib
text = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
PY
)"
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/tools/ansible-test/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
# Outside the checkout (ansible-test lists what git knows in the enclosing repository), as a
# repository of its own; a directory of this run's own (two runs at once, from two checkouts,
# would otherwise test each other's copies), removed when it ends.
work="$(mktemp -d "${TMPDIR:-/tmp}/ibh-ansible-test-XXXXXX")"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/imagebuilding/hubs"
mkdir -p "$dest"
"$root/.venv/bin/python" - "$root" "$dest" <<'PY'
import shutil, subprocess, sys
from pathlib import Path
root, dest = Path(sys.argv[1]), Path(sys.argv[2])
listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                        capture_output=True, check=True).stdout.decode().split("\0")
for name in filter(None, listed):
    source = root / name
    if source.is_file() and not source.is_symlink():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name)
PY
cd "$dest"
git init -q . && git add -A && git -c user.name=ansible-test -c user.email=ansible-test@localhost commit -qm copy
"$venv/bin/ansible-test" "$command" --python "$python" --requirements --color no "$@"
