"""Every check of every selected hub in one pass, each problem reported: ``playbooks/validate.yml``.

The ``hub_validate`` action collects what each hub's checks read (``HubInputs``: its variables,
templated, and the roles' arguments derived from them) and ``validate_hubs`` runs the checks
the validate play of ``playbooks/hub.yml`` runs one task at a time - with the same functions:

- the problems the fleet inventory plugin found in the hub's entry (``fleet_problems``) and the
  names it shares with another selected hub (``hub_duplicates``);
- the hub model (``hub_model.build_model``) and the roles' argument specs (``validate`` of the
  registry and secrets roles, ``main`` of binderhub_service and jupyterhub);
- the registry settings (``registry_check``'s logic, with the registry role's own arguments);
- the secrets role's inputs (``secret_values.input_problems``) and the leak guard (``LeakScan``:
  each directory read once per run, however many hubs share it);
- the charts and the final values of every release (``hub_preflight``: release rules, the
  charts' schemas - read once per chart - and the secrets a person must add).

A check whose inputs another check refused is skipped and said so (``not_checked``); every
other check runs, so one run lists every problem of every hub. Nothing is written, nothing is
encrypted and no cluster or registry is contacted: the sops-encrypted values files and the
secret values file are decrypted in memory (several sops processes at once, each file once),
only to check their content. A file none of whose keys is available here is not a problem of
the hub: it is reported as not decryptable here, and the hub's values are checked without it.
No decrypted value is in any message.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.imagebuilding.hubs.plugins.module_utils import registry_check
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure, RunContext
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import REGISTRY_TYPES
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    LeakScan,
    SopsDecryptError,
    is_sops_encrypted,
    leak_message,
    sops_decrypt,
    sops_environment,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import ChartResolveError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModel, HubModelError, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_preflight import (
    ChartResolver,
    chart_problems,
    companion_problems,
    values_problems,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_built
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import call_logic, logic_params
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import input_problems

PASSED, PROBLEMS = "passed", "problems"


@dataclass(frozen=True)
class SpecCheck:
    """One role entry point's argument spec and the hub's values of its options."""

    role: str
    entry_point: str
    options: Mapping[str, Any]
    values: Mapping[str, Any]


@dataclass
class HubInputs:
    """What the checks of one hub read, templated in the hub's context (by the action)."""

    host: str
    hub: str
    cluster: str
    base_dir: str
    model_variables: dict[str, Any]
    builds_images: bool
    fleet_problems: list[str] = field(default_factory=list)
    duplicate_problems: list[str] = field(default_factory=list)
    template_problems: list[str] = field(default_factory=list)  # variables that do not template
    specs: list[SpecCheck] = field(default_factory=list)
    registry_args: dict[str, Any] | None = None  # the registry role's registry_check arguments
    secrets_file: str = ""
    guard_paths: list[str] = field(default_factory=list)
    tokens: object = None
    extra_values: object = None  # secrets_extra_values: may hold secrets, never reported
    sops_binary: str = "sops"
    age_keyfile: str = ""
    sops_config_path: str = ""


@dataclass(frozen=True)
class Finding:
    """One problem of one hub: the check that found it, the variable and file it names, the message."""

    check: str
    message: str
    variable: str = ""
    file: str = ""


@dataclass
class HubReport:
    host: str
    hub: str
    cluster: str
    problems: list[Finding] = field(default_factory=list)
    not_decryptable: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return PROBLEMS if self.problems else PASSED

    def add(self, check: str, messages: Iterable[str]) -> None:
        for message in messages:
            variable, file = locate(message)
            self.problems.append(Finding(check, message, variable, file))

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "hub": self.hub, "cluster": self.cluster, "status": self.status,
                "problems": [finding.__dict__ for finding in self.problems],
                "not_decryptable": self.not_decryptable, "not_checked": self.not_checked, "warnings": self.warnings}


# --- naming the variable and the file of a message ---------------------------------------

_FLEET_WHERE = re.compile(r"^(?P<file>/[^:]+): cluster '[^']*', (?:hubs? [^:]+): (?P<key>[^:]+): ")
# A final value: the layer that set it, then the chart key path (release_rules.Report).
_VALUE_WHERE = re.compile(r"^hub '[^']*': (?:hub_values_files\[\d+\] \((?P<file>[^)]+)\)|the secret values file "
                          r"(?P<secrets>\S+)|the toolkit's values|the secrets role's secrets_extra_values): "
                          r"(?P<key>[^:;\s]+): ")
_MODEL_WHERE = re.compile(r"^hub '[^']*': (?P<where>[^:;\s]+): ")
_VALUES_FILE = re.compile(r"hub_values_files\[\d+\] \((?P<file>[^)]+)\)")
_SECRETS_FILE = re.compile(r"(?:the secret values file|sops could not decrypt) (?P<file>/\S+?):? ")
_ANY_FILE = re.compile(r"(?P<file>/[^\s,;'()]+)")
_VARIABLE = re.compile(r"\b(?P<variable>(?:hub|cluster|jupyterhub|binderhub_service|registry|secrets)_[a-z0-9_]+"
                       r"(?:\[\d+\])?)")


def locate(message: str) -> tuple[str, str]:
    """(variable, file) a problem's message names ('' when it names none): the variable or key path
    after the hub (``hub 'x': jupyterhub_profiles[1].slug: ...``); for a final value, its chart key
    path and the values file that set it; for the fleet's files, the key and the cluster file."""
    for pattern, key in ((_FLEET_WHERE, "key"), (_VALUE_WHERE, "key")):
        found = pattern.match(message)
        if found:
            return found[key], found.groupdict().get("file") or found.groupdict().get("secrets") or ""
    where = _MODEL_WHERE.match(message)
    variable = where["where"] if where else ""
    if not variable:
        found = _VARIABLE.search(message)
        variable = found["variable"] if found else ""
    for pattern in (_VALUES_FILE, _SECRETS_FILE, _ANY_FILE):
        found = pattern.search(message)
        if found:
            return variable, found["file"]
    return variable, ""


# --- sops, several files at once ------------------------------------------------------------


@dataclass(frozen=True)
class Decrypted:
    text: str = ""
    error: SopsDecryptError | None = None


class Decryptions:
    """sops decryptions in memory, several processes at once, each file (and key setting) once."""

    def __init__(self, workers: int) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers),
                                                           thread_name_prefix="hub-validate-sops")
        self._started: dict[tuple[str, str, str], concurrent.futures.Future[Decrypted]] = {}

    @staticmethod
    def _decrypt(path: str, binary: str, age_keyfile: str) -> Decrypted:
        env = sops_environment(age_keyfile)
        env.setdefault("GOMAXPROCS", "1")  # several run at once: one thread each is less CPU for sops' runtime
        try:
            return Decrypted(text=sops_decrypt(path, binary=binary, env=env))
        except SopsDecryptError as error:
            return Decrypted(error=error)

    def start(self, path: str, binary: str, age_keyfile: str) -> None:
        key = (path, binary, age_keyfile)
        if key not in self._started:
            self._started[key] = self._pool.submit(self._decrypt, *key)

    def result(self, path: str, binary: str, age_keyfile: str) -> Decrypted:
        self.start(path, binary, age_keyfile)
        return self._started[(path, binary, age_keyfile)].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class HubDecrypter:
    """One hub's decrypter for the rendering: the plaintext of a file decrypted here; for a file
    none of whose keys is available here, empty content (the file is listed in ``unavailable``);
    a damaged file raises (a problem of the hub)."""

    def __init__(self, decryptions: Decryptions, binary: str, age_keyfile: str) -> None:
        self.decryptions, self.binary, self.age_keyfile = decryptions, binary, age_keyfile
        self.unavailable: list[str] = []

    def start(self, path: str) -> None:
        self.decryptions.start(path, self.binary, self.age_keyfile)

    def readable(self, path: str) -> bool:
        outcome = self.decryptions.result(path, self.binary, self.age_keyfile)
        if outcome.error is not None and outcome.error.no_key:
            if path not in self.unavailable:
                self.unavailable.append(path)
            return False
        return True

    def failure(self, path: str) -> str:
        """Why sops could not decrypt ``path`` ('' when it could); never a value."""
        outcome = self.decryptions.result(path, self.binary, self.age_keyfile)
        return str(outcome.error) if outcome.error is not None else ""

    def __call__(self, path: str) -> str:
        outcome = self.decryptions.result(path, self.binary, self.age_keyfile)
        if outcome.error is None:
            return outcome.text
        if outcome.error.no_key:
            self.readable(path)
            return ""
        raise outcome.error


# --- the checks ---------------------------------------------------------------------------


class ArgumentChecks:
    """The roles' argument specs, each validator made once per run (making one copies its spec)."""

    def __init__(self) -> None:
        self._validators: dict[tuple[str, str], ArgumentSpecValidator] = {}

    def problems(self, host: str, spec: SpecCheck) -> list[str]:
        """The hub's values of a role entry point's options against its argument spec, as the role's
        own argument validation checks them. Options marked ``no_log`` are left out: their values may
        be secrets, and the checks that use them check them."""
        key = (spec.role, spec.entry_point)
        if key not in self._validators:
            options = {name: option for name, option in spec.options.items() if not option.get("no_log")}
            self._validators[key] = ArgumentSpecValidator(options)
        validator = self._validators[key]
        values = {name: value for name, value in spec.values.items() if name in validator.argument_spec}
        validation = validator.validate(values, validate_role_argument_spec=True)
        return [f"hub {host!r}: role {spec.role} ({spec.entry_point}): {message}"
                for message in validation.error_messages]


_ARGUMENT = re.compile(r"argument '(?P<name>[^']+)'")


def _argument(message: str) -> str:
    """The option an argument spec's message is about ('' when it names none)."""
    found = _ARGUMENT.search(message)
    return found["name"] if found else ""


@dataclass(frozen=True)
class RegistryOutcome:
    """The registry settings' check: the definition (no password) when they pass, else the problems;
    ``checked``, ``registry_check``'s whole result (what the registry role's rollout step reads)."""

    definition: dict[str, Any] | None
    problems: list[str]
    warnings: list[str]
    checked: dict[str, Any] | None = None


def check_registry(inputs: HubInputs) -> RegistryOutcome:
    """The registry role's ``registry_check`` on the hub's arguments (with the role's own wiring)."""
    args = inputs.registry_args or {}
    registry_type = args.get("type")
    if registry_type not in REGISTRY_TYPES:
        return RegistryOutcome(None, [f"hub '{inputs.host}': registry_type: '{registry_type or ''}' is not supported; "
                                      f"expected one of {', '.join(REGISTRY_TYPES)}"], [])
    context = RunContext(check_mode=True)
    try:
        checked = call_logic(registry_check.LOGIC, logic_params(registry_check.LOGIC, args), context)
    except ModuleFailure as failure:
        errors = failure.fields.get("errors")
        prefix = f"hub '{inputs.host}': invalid registry settings ({registry_type}): "
        return RegistryOutcome(None, [prefix + str(e) for e in errors] if isinstance(errors, list) else [failure.msg],
                               context.warnings)
    return RegistryOutcome(checked["definition"], [], context.warnings, checked)


class ChartResolutions:
    """Each chart version resolved once per run (an upstream one pulled into the chart cache)."""

    def __init__(self, resolve: ChartResolver) -> None:
        self._resolve = resolve
        self._done: dict[tuple[str, str, str], Path | ChartResolveError | None] = {}

    def __call__(self, release: Release) -> Path | None:
        key = (release.chart_repo_url, release.chart_ref, release.chart_version)
        if key not in self._done:
            try:
                self._done[key] = self._resolve(release)
            except ChartResolveError as error:
                self._done[key] = error
        outcome = self._done[key]
        if isinstance(outcome, ChartResolveError):
            raise outcome
        return outcome


def _encrypted_files(model: HubModel, inputs: HubInputs) -> list[str]:
    """The files the values checks decrypt: the encrypted values files (the companion releases' too)
    and the secret values file."""
    files = [f.path for f in model.values_files if f.encrypted]
    files += [f.path for companion in model.companions for f in companion.values_files if f.encrypted]
    if inputs.secrets_file and Path(inputs.secrets_file).is_file() and is_sops_encrypted(inputs.secrets_file):
        files.append(inputs.secrets_file)
    return list(dict.fromkeys(files))


@dataclass
class CheckedHub:
    """One hub's checks: its report and what they built (the model, the registry's outcome)."""

    inputs: HubInputs
    report: HubReport
    model: HubModel | None = None
    registry: RegistryOutcome | None = None  # None: the hub builds no images
    decrypter: HubDecrypter | None = None  # None: its final values are not checked

    @property
    def builds_images(self) -> bool:
        return self.model.hub.image_building if self.model else self.inputs.builds_images


def _first_pass(inputs: HubInputs, decryptions: Decryptions) -> CheckedHub:
    """The hub model and the registry settings; when the final values can be checked, the
    decryptions they need started (they run meanwhile). Problems are reported by ``_check_hub``."""
    hub = CheckedHub(inputs, HubReport(inputs.host, inputs.hub, inputs.cluster))
    try:
        hub.model = build_model(inputs.model_variables, base_dir=inputs.base_dir)
    except HubModelError as error:
        hub.report.add("hub model", error.errors)
    if hub.builds_images and inputs.registry_args is not None:
        hub.registry = check_registry(inputs)
    if hub.model is not None and (hub.registry is None or hub.registry.definition is not None):
        hub.decrypter = HubDecrypter(decryptions, inputs.sops_binary, inputs.age_keyfile)
        for path in _encrypted_files(hub.model, inputs):
            hub.decrypter.start(path)
    return hub


@dataclass
class RunChecks:
    """What the hubs' checks share in one run: each directory, chart and argument spec read once."""

    charts: ChartResolutions
    leaks: LeakScan = field(default_factory=LeakScan)
    arguments: ArgumentChecks = field(default_factory=ArgumentChecks)


def _check_hub(hub: CheckedHub, run: RunChecks, require_decrypt: bool) -> HubReport:
    inputs, report = hub.inputs, hub.report
    report.add("fleet", inputs.fleet_problems)
    report.add("duplicates", inputs.duplicate_problems)
    report.add("variables", inputs.template_problems)
    reported = {re.split(r"[.\[:]", finding.variable, maxsplit=1)[0] for finding in report.problems}
    for spec in inputs.specs:  # a variable the hub model named already is not named again
        report.add("arguments", [message for message in run.arguments.problems(inputs.host, spec)
                                 if _argument(message) not in reported])
    if hub.registry is not None:
        report.add("registry", hub.registry.problems)
        report.warnings += hub.registry.warnings
    report.add("secrets", input_problems(inputs.hub, inputs.tokens, inputs.sops_config_path))
    leaked = run.leaks.find(inputs.guard_paths)[1]
    if leaked:
        report.add("leak guard", [leak_message(inputs.hub, leaked)])
    if hub.model is None:
        report.not_checked.append("charts and final values: the hub model has problems")
        return report
    report.add("charts", chart_problems(hub.model, run.charts)[1])
    if hub.decrypter is None:
        report.not_checked.append("final values (the companion releases' too): the registry settings have problems")
        return report
    definition = hub.registry.definition if hub.registry is not None else None
    _check_values(hub, hub.model, hub.decrypter, definition or {})
    report.not_decryptable = list(hub.decrypter.unavailable)
    if report.not_decryptable and require_decrypt:
        report.add("secrets", [f"hub {inputs.hub!r}: secrets not decryptable here: {path}; expected a file one of "
                               "whose keys is available (hub_validate_require_decrypt)" for path in report.not_decryptable])
    return report


def _check_values(hub: CheckedHub, model: HubModel, decrypter: HubDecrypter, definition: dict[str, Any]) -> None:
    inputs, report = hub.inputs, hub.report
    try:
        rendering = render_built(model, definition, base_dir=inputs.base_dir, decrypt_file=decrypter)
    except RenderError as error:
        report.add("values", [str(e) for e in error.details.get("errors") or [str(error)]])  # type: ignore[union-attr]
        return
    secrets_readable = not inputs.secrets_file or not Path(inputs.secrets_file).is_file() or \
        not is_sops_encrypted(inputs.secrets_file) or decrypter.readable(inputs.secrets_file)
    report.add("values", values_problems(rendering, secrets_file=inputs.secrets_file, extra_values=inputs.extra_values,
                                         tokens=inputs.tokens, decrypt_file=decrypter,
                                         secrets_readable=secrets_readable))
    report.add("companions", companion_problems(model, base_dir=inputs.base_dir, decrypt_file=decrypter))


def check_hubs(hubs: list[HubInputs], resolve: ChartResolver, *, workers: int = 0,
               require_decrypt: bool = False) -> list[CheckedHub]:
    """Every check of every hub, in the given order; each hub's report has every problem found."""
    decryptions = Decryptions(workers or max(2, os.cpu_count() or 2))
    try:
        first = [_first_pass(inputs, decryptions) for inputs in hubs]
        run = RunChecks(ChartResolutions(resolve))
        for hub in first:
            _check_hub(hub, run, require_decrypt)
        return first
    finally:
        decryptions.close()


def validate_hubs(hubs: list[HubInputs], resolve: ChartResolver, *, workers: int = 0,
                  require_decrypt: bool = False) -> list[HubReport]:
    """A report per hub, in the given order, with every problem of every check."""
    return [hub.report for hub in check_hubs(hubs, resolve, workers=workers, require_decrypt=require_decrypt)]


# --- what the run shows ---------------------------------------------------------------------


def summary_lines(reports: list[HubReport]) -> list[str]:
    """One line per hub (passed, or its problems, each on a line of its own), then the totals."""
    lines: list[str] = []
    for report in reports:
        notes = []
        if report.not_decryptable:
            notes.append("secrets not decryptable here (" + ", ".join(report.not_decryptable) + ")")
        notes += [f"not checked: {what}" for what in report.not_checked]
        suffix = f" - {'; '.join(notes)}" if notes else ""
        if not report.problems:
            lines.append(f"{report.host}: passed{suffix}")
            continue
        lines.append(f"{report.host}: {len(report.problems)} problem(s){suffix}")
        lines += [f"  - [{finding.check}] {finding.message}" for finding in report.problems]
    failed = [r.host for r in reports if r.problems]
    undecrypted = sum(1 for r in reports if r.not_decryptable)
    lines.append(f"{len(reports) - len(failed)} of {len(reports)} hub(s) passed, {len(failed)} with problems"
                 + (f", {undecrypted} checked without the secrets not decryptable here" if undecrypted else ""))
    return lines


def report_document(reports: list[HubReport], generated_at: str) -> dict[str, Any]:
    """The JSON report: per hub its status, problems (check, variable, file, message), the files
    not decryptable here and the checks not run; never a value."""
    return {
        "generated_at": generated_at,
        "summary": {"hubs": len(reports), PASSED: sum(1 for r in reports if not r.problems),
                    PROBLEMS: sum(1 for r in reports if r.problems),
                    "not_decryptable": sum(1 for r in reports if r.not_decryptable)},
        "hubs": [report.to_dict() for report in reports],
    }


def by_host(values: Mapping[str, Any] | None, host: str) -> list[str]:
    """A host's messages in a host -> messages mapping (``hub_duplicates``' answer)."""
    found = (values or {}).get(host) or []
    return [str(message) for message in found]

