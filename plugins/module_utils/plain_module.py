"""A module's logic as a plain function, run by the module itself or by an action plugin.

Each of the project's controller-side modules keeps its logic in a module_utils file of its
own name that defines a ``LOGIC = ModuleLogic(...)``: the argument spec (once, used by the
module's ``AnsibleModule`` and by the action plugin's ``validate_argument_spec``), the
cross-option checks, and ``run(params, context) -> result``, which returns the module's
result or raises ``ModuleFailure`` (its ``msg`` and extra fields). ``context`` says whether
to change anything (check mode) or show a diff, and collects warnings.

``run_as_module`` is the whole ``main()`` of such a module; the action plugin of the same name
(``plugin_utils/module_logic_action.py``) calls ``run`` in the task's worker process instead
of starting a new interpreter.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.basic import AnsibleModule


class ModuleFailure(Exception):
    """The module fails with ``msg`` and the extra result fields ``fields``."""

    def __init__(self, msg: str, **fields: object) -> None:
        super().__init__(msg)
        self.msg = msg
        self.fields = fields


@dataclass
class RunContext:
    """How a run goes (check mode, diff mode) and the warnings it gives."""

    check_mode: bool = False
    diff: bool = False
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass(frozen=True)
class ModuleLogic:
    """One module: its name, argument spec, cross-option checks and plain ``run`` function."""

    name: str
    argument_spec: dict[str, dict[str, Any]]
    run: Callable[[dict[str, Any], RunContext], dict[str, Any]]
    mutually_exclusive: list[tuple[str, ...]] = field(default_factory=list)
    required_one_of: list[tuple[str, ...]] = field(default_factory=list)
    required_if: list[tuple[Any, ...]] = field(default_factory=list)

    def checks(self) -> dict[str, Any]:
        """The cross-option checks as keyword arguments of ``AnsibleModule`` and ``validate_argument_spec``."""
        return {"mutually_exclusive": self.mutually_exclusive or None, "required_one_of": self.required_one_of or None,
                "required_if": self.required_if or None}

    def secret_values(self, params: Mapping[str, Any]) -> set[str]:
        """The values of the ``no_log`` options in ``params``: never part of a result."""
        return {str(params[name]) for name, option in self.argument_spec.items()
                if option.get("no_log") and params.get(name) not in (None, "")}


def run_as_module(logic: ModuleLogic) -> None:
    """The ``main()`` of the module: validate its arguments, run the logic, exit with its result."""
    module = AnsibleModule(argument_spec=logic.argument_spec, supports_check_mode=True, **logic.checks())
    # The diff is always made (it never holds a secret); the controller shows it only in diff mode.
    context = RunContext(check_mode=module.check_mode, diff=True)
    try:
        result = logic.run(module.params, context)
    except ModuleFailure as failure:
        for warning in context.warnings:
            module.warn(warning)
        module.fail_json(msg=failure.msg, **failure.fields)
    for warning in context.warnings:
        module.warn(warning)
    module.exit_json(**result)


def run_program(argv: list[str], *, cwd: str | None = None, data: bytes | None = None,
                env: Mapping[str, str] | None = None, timeout: float | None = None) -> tuple[int, str, str]:
    """Run ``argv`` (``env`` added to this process's environment); its exit code, stdout and
    stderr as text. A program that cannot be started fails the module."""
    try:
        proc = subprocess.run(argv, cwd=cwd, input=data, capture_output=True, env={**os.environ, **(env or {})},
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ModuleFailure(f"{argv[0]} could not be run: {error}", rc=-1) from None
    return (proc.returncode, proc.stdout.decode("utf-8", errors="replace"),
            proc.stderr.decode("utf-8", errors="replace"))
