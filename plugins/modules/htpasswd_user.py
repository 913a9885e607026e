#!/usr/bin/python
"""Ansible module htpasswd_user: one bcrypt entry of an htpasswd file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: htpasswd_user
short_description: Manage one user's bcrypt entry in an htpasswd file
description:
  - Adds, updates or removes the C(user:hash) line of one user in an htpasswd file such as the
    one an OCI distribution registry authenticates against (C(auth.htpasswd.path)).
  - Idempotent, an existing bcrypt hash that already matches O(password) is kept as it is.
    A hash in another format, or one that does not match, is replaced by a new bcrypt hash.
  - Other lines keep their content and order. The file is replaced atomically (a new file
    renamed over the old one), so its modification time changes and the distribution
    registry re-reads it.
  - Read, change and write happen under an exclusive lock (C(flock) on C(.<file name>.lock) in
    the same directory), so hubs that run in parallel and share one htpasswd file lose no
    update.
  - Uses the C(bcrypt) Python package. Supports check mode and diff mode (the diff lists user
    names, never hashes).
version_added: "1.0.0"
author: imagebuilding-hubs
requirements:
  - bcrypt
options:
  path:
    description: The htpasswd file.
    type: path
    required: true
  username:
    description: User name (no C(:)).
    type: str
    required: true
  password:
    description: Password of O(username), at most 72 bytes (bcrypt's limit). Required when O(state=present).
    type: str
  state:
    description: Whether the user's entry should exist.
    type: str
    choices: [present, absent]
    default: present
  create:
    description: Create the file when it does not exist.
    type: bool
    default: true
  mode:
    description: Permissions of a newly created file.
    type: raw
    default: "0600"
  cost:
    description:
      - bcrypt cost factor of new hashes.
      - The default, 5, is that of C(htpasswd -B). The registry checks the hash on every request (a
        build pod's push makes many), about 70 ms of CPU each at cost 10 and 2 ms at 5 (measured);
        the passwords the registry role generates are random (32 letters and digits, about 190
        bits), which a higher cost does not make harder to guess. Raise it for passwords people choose.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Give the hub's build pods a registry user
  htpasswd_user:
    path: /srv/registry/htpasswd
    username: research
    password: "{{ generated_password }}"
  no_log: true

- name: Remove a hub's registry user
  htpasswd_user:
    path: /srv/registry/htpasswd
    username: research
    state: absent
"""

RETURN = r"""
entry:
  description: What happened to the user's entry.
  type: str
  returned: always
  sample: added
  choices: [added, updated, removed, unchanged]
users:
  description: User names in the file afterwards, in file order.
  type: list
  elements: str
  returned: always
"""

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import bcrypt
except ImportError:  # pragma: no cover - reported by the module
    bcrypt = None

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


def read_lines(path: str) -> list[str] | None:
    """Lines of the file without line endings (None when it does not exist)."""
    if not Path(path).exists():
        return None
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def find_user(lines: list[str], username: str) -> int:
    for index, line in enumerate(lines):
        if line.split(":", 1)[0] == username and ":" in line:
            return index
    return -1


def hash_matches(stored: str, password: str) -> bool:
    if not stored.startswith(BCRYPT_PREFIXES):
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), stored.encode("ascii"))
    except ValueError:
        return False


def make_hash(password: str, cost: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


class Prepared(NamedTuple):
    """bcrypt work done before taking the file's lock (at cost 10 it takes ~0.07 s of CPU; hubs
    sharing one file would otherwise wait for each other's hashing): a stored hash checked to match the
    password, or a fresh hash of it."""

    matching: str = ""
    new_hash: str = ""


def prepare(path: str, username: str, password: str, cost: int) -> Prepared:
    lines = read_lines(path) or []
    index = find_user(lines, username)
    if index >= 0:
        stored = lines[index].split(":", 1)[1].strip()
        if hash_matches(stored, password):
            return Prepared(matching=stored)
    return Prepared(new_hash=make_hash(password, cost))


def plan_present(lines: list[str], username: str, password: str, cost: int,
                 prepared: Prepared | None = None) -> tuple[str, list[str]]:
    prepared = prepared or Prepared()
    index = find_user(lines, username)
    if index < 0:
        return "added", [*lines, f"{username}:{prepared.new_hash or make_hash(password, cost)}"]
    stored = lines[index].split(":", 1)[1].strip()
    if stored == prepared.matching or hash_matches(stored, password):
        return "unchanged", lines
    updated = list(lines)
    updated[index] = f"{username}:{prepared.new_hash or make_hash(password, cost)}"
    return "updated", updated


def plan_absent(lines: list[str], username: str) -> tuple[str, list[str]]:
    index = find_user(lines, username)
    if index < 0:
        return "unchanged", lines
    return "removed", lines[:index] + lines[index + 1:]


def users_of(lines: list[str]) -> list[str]:
    return [line.split(":", 1)[0] for line in lines if ":" in line and not line.lstrip().startswith("#")]


def write_atomically(module: AnsibleModule, path: str, lines: list[str], mode: object, existed: bool) -> None:
    target = Path(path).absolute()
    fd, name = tempfile.mkstemp(prefix=".htpasswd-", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
        if existed:
            tmp.chmod(target.stat().st_mode & 0o7777)
        tmp.replace(target)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    if not existed:
        file_args = module.load_file_common_arguments({"path": path, "mode": mode})
        module.set_fs_attributes_if_different(file_args, False)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "username": {"type": "str", "required": True},
            "password": {"type": "str", "no_log": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "create": {"type": "bool", "default": True},
            "mode": {"type": "raw", "default": "0600"},
            "cost": {"type": "int", "default": 5},
        },
        required_if=[("state", "present", ["password"])],
        supports_check_mode=True,
    )
    if bcrypt is None:
        module.fail_json(msg=missing_required_lib("bcrypt"))
    params = module.params
    path, username = params["path"], params["username"]
    if not username or ":" in username or "\n" in username:
        module.fail_json(msg=f"username {username!r} is invalid: it must be non-empty and contain no ':'")
    if params["password"] is not None and len(params["password"].encode("utf-8")) > 72:
        module.fail_json(msg=f"the password of '{username}' is longer than 72 bytes, which bcrypt cannot hash")

    if not Path(path).exists() and not Path(path).absolute().parent.is_dir():
        module.fail_json(msg=f"the directory of {path} does not exist")
    if module.check_mode:
        result = apply(module, params)
    else:
        # Hubs of a fleet run in parallel and may share one htpasswd file: read, plan and
        # write under an exclusive lock so that no update is lost; bcrypt runs before it.
        prepared = (prepare(path, username, params["password"], params["cost"])
                    if params["state"] == "present" else None)
        try:
            with exclusive_lock(Path(path), timeout=60.0):
                result = apply(module, params, prepared)
        except TimeoutError as exc:
            module.fail_json(msg=str(exc))
    module.exit_json(**result)


@contextmanager
def exclusive_lock(path: Path, timeout: float) -> Iterator[None]:
    """flock on a lock file beside the htpasswd file (which itself is replaced on writes)."""
    lock_path = path.absolute().parent / f".{path.name}.lock"
    with lock_path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{lock_path} stayed locked for {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply(module: AnsibleModule, params: dict, prepared: Prepared | None = None) -> dict:
    """Read the file, plan the user's entry, write when needed (not in check mode)."""
    path, username = params["path"], params["username"]
    lines = read_lines(path)
    existed = lines is not None
    if not existed:
        if params["state"] == "absent":
            return {"changed": False, "entry": "unchanged", "users": []}
        if not params["create"]:
            module.fail_json(msg=f"{path} does not exist and create=false")
        lines = []
    if params["state"] == "present":
        action, new_lines = plan_present(lines, username, params["password"], params["cost"], prepared)
    else:
        action, new_lines = plan_absent(lines, username)
    changed = action != "unchanged"
    result = {"changed": changed, "entry": action, "users": users_of(new_lines)}
    if module._diff:
        result["diff"] = {
            "before_header": path,
            "after_header": path,
            "before": "".join(f"{u}\n" for u in users_of(lines)) if existed else "",
            "after": "".join(f"{u}\n" for u in users_of(new_lines))
            + (f"# {username}: new password hash\n" if action == "updated" else ""),
        }
    if changed and not module.check_mode:
        write_atomically(module, path, new_lines, params["mode"], existed)
    return result

if __name__ == "__main__":
    main()
