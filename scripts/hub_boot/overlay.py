"""Inside a boot's private mount namespace: the pod's files laid over a directory of this machine
(an overlay whose upper layer is a private tmpfs), as the pod's volume mounts would show them."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def overlay_files(files: Mapping[str, Mapping[str, Any]], private: Path, root: str, *, label: str, size: str,
                  extra: Mapping[str, str] | None = None) -> None:
    """``files`` (relative path -> base64 ``content`` and ``mode``) and ``extra`` plain texts over
    ``root``; ``private`` becomes a tmpfs (mode 0700) holding the upper layer."""
    private.mkdir(exist_ok=True)
    mount("-t", "tmpfs", "-o", f"mode=0700,size={size}", label, str(private))
    upper, work = private / "upper", private / "work"
    for relative, entry in files.items():
        path = upper / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(entry["content"]))
        path.chmod(entry["mode"])
    for relative, text in (extra or {}).items():
        (upper / relative).write_text(text)
    work.mkdir()
    mount("-t", "overlay", "overlay", "-o", f"lowerdir={root},upperdir={upper},workdir={work}", root)
