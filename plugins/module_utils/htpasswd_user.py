"""The logic of the module ``htpasswd_user`` (one user's bcrypt entry of an htpasswd file),
as plain functions: ``LOGIC.run(params, context)``, run by the module and by its action plugin."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)

try:
    import bcrypt
except ImportError:  # pragma: no cover - reported by run()
    bcrypt = None

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "no_log": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "create": {"type": "bool", "default": True},
    "mode": {"type": "raw", "default": "0600"},
    "cost": {"type": "int", "default": 5},
}

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


def file_mode(mode: object) -> int:
    """Permission bits of ``mode``: an octal string (C(0600)) or a number."""
    if isinstance(mode, int) and not isinstance(mode, bool):
        return mode & 0o7777
    try:
        return int(str(mode), 8) & 0o7777
    except ValueError:
        raise ModuleFailure(f"mode {mode!r} is not an octal number such as '0600'") from None


def write_atomically(path: str, lines: list[str], mode: int | None) -> None:
    """Replace ``path`` by ``lines`` (a new file renamed over it), with the old file's permissions,
    or ``mode`` for a new file."""
    target = Path(path).absolute()
    fd, name = tempfile.mkstemp(prefix=".htpasswd-", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
        tmp.chmod(target.stat().st_mode & 0o7777 if mode is None else mode)
        tmp.replace(target)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def check_params(params: dict[str, Any]) -> None:
    if bcrypt is None:
        raise ModuleFailure(missing_required_lib("bcrypt"))
    path, username = params["path"], params["username"]
    if not username or ":" in username or "\n" in username:
        raise ModuleFailure(f"username {username!r} is invalid: it must be non-empty and contain no ':'")
    if params["password"] is not None and len(params["password"].encode("utf-8")) > 72:
        raise ModuleFailure(f"the password of '{username}' is longer than 72 bytes, which bcrypt cannot hash")
    if not Path(path).exists() and not Path(path).absolute().parent.is_dir():
        raise ModuleFailure(f"the directory of {path} does not exist")


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """The module's result: the user's entry planned, and written unless in check mode."""
    check_params(params)
    if context.check_mode:
        return apply(params, context)
    # Hubs of a fleet run in parallel and may share one htpasswd file: read, plan and
    # write under an exclusive lock so that no update is lost; bcrypt runs before it.
    prepared = (prepare(params["path"], params["username"], params["password"], params["cost"])
                if params["state"] == "present" else None)
    try:
        with exclusive_lock(Path(params["path"]), timeout=60.0):
            return apply(params, context, prepared)
    except TimeoutError as error:
        raise ModuleFailure(str(error)) from None


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


def apply(params: dict[str, Any], context: RunContext, prepared: Prepared | None = None) -> dict[str, Any]:
    """Read the file, plan the user's entry, write when needed (not in check mode)."""
    path, username = params["path"], params["username"]
    lines = read_lines(path)
    existed = lines is not None
    if not existed:
        if params["state"] == "absent":
            return {"changed": False, "entry": "unchanged", "users": []}
        if not params["create"]:
            raise ModuleFailure(f"{path} does not exist and create=false")
        lines = []
    if params["state"] == "present":
        action, new_lines = plan_present(lines, username, params["password"], params["cost"], prepared)
    else:
        action, new_lines = plan_absent(lines, username)
    changed = action != "unchanged"
    result = {"changed": changed, "entry": action, "users": users_of(new_lines)}
    if context.diff:
        result["diff"] = {
            "before_header": path,
            "after_header": path,
            "before": "".join(f"{u}\n" for u in users_of(lines)) if existed else "",
            "after": "".join(f"{u}\n" for u in users_of(new_lines))
            + (f"# {username}: new password hash\n" if action == "updated" else ""),
        }
    if changed and not context.check_mode:
        write_atomically(path, new_lines, None if existed else file_mode(params["mode"]))
    return result


LOGIC = ModuleLogic(name="htpasswd_user", argument_spec=ARGUMENT_SPEC, run=run,
                    required_if=[("state", "present", ["password"])])
