"""Action plugins that run a module's logic in the task's worker process (controller-side only).

Ansible runs a module by building a payload and starting a new Python interpreter for it:
about 0.4 CPU-seconds per task on a small machine, which for a fleet of hubs is most of a
run. The project's modules that only ever run on the controller (they read inventory files,
call sops, talk to a registry) keep their logic as a plain function in the module_utils file
of their name (``LOGIC``, see ``module_utils/plain_module.py``), and get an action plugin of
their name built on ``ModuleLogicAction``: it validates the task's arguments against the
module's own argument spec with ``ActionBase.validate_argument_spec`` and calls that function
in the worker Ansible has already forked for the task. The module file stays the
``ansible-doc`` source and runs the same function when Ansible runs it as a module.

A task with ``environment:`` or a connection other than ``local`` runs the module the normal way.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)


def logic_params(logic: ModuleLogic, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` checked against the module's argument spec, with its defaults; ``ModuleFailure`` when invalid."""
    validation = ArgumentSpecValidator(logic.argument_spec, **logic.checks()).validate(args)
    if validation.error_messages:
        raise ModuleFailure(f"{logic.name}: {validation.errors.msg}")
    return validation.validated_parameters


def call_logic(logic: ModuleLogic, params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """The module's result; a failure, or a crash of the logic, raised as ``ModuleFailure``."""
    try:
        return logic.run(params, context)
    except ModuleFailure:
        raise
    except Exception as error:  # a crash of the logic becomes the task's failure
        raise ModuleFailure(f"module {logic.name} failed: {type(error).__name__}: {error}") from error


def logic_result(logic: ModuleLogic, params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """The task result of the module's logic, as the module would return it: failures with their
    fields, warnings, and the values of ``no_log`` options masked."""
    try:
        result = call_logic(logic, params, context)
    except ModuleFailure as failure:
        result = {**failure.fields, "failed": True, "msg": failure.msg}
    if context.warnings:
        result["warnings"] = [*result.get("warnings", []), *context.warnings]
    return remove_values(result, logic.secret_values(params))


class ModuleLogicAction(ActionBase):
    """Action plugin base: the logic ``LOGIC`` of the module named like the action, run in this process."""

    LOGIC: ClassVar[ModuleLogic]

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        if any(self._task.environment or []) or getattr(self._connection, "transport", "") != "local":
            return merge_hash(result, self._execute_module(task_vars=task_vars or {}))
        unsupported = sorted(set(self._task.args) - set(self.LOGIC.argument_spec))
        if unsupported:  # worded as the module words it (validate_argument_spec names the plugin's Python module)
            return merge_hash(result, {"failed": True, "msg": (
                f"Unsupported parameters for ({self._task.action}) module: {', '.join(unsupported)}. "
                f"Supported parameters include: {', '.join(sorted(self.LOGIC.argument_spec))}.")})
        _validation, params = self.validate_argument_spec(argument_spec=self.LOGIC.argument_spec, **self.LOGIC.checks())
        context = RunContext(check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))
        return merge_hash(result, logic_result(self.LOGIC, params, context))
