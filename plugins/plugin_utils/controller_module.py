"""Run one of the project's modules inside the Ansible worker process (controller-side only).

Ansible runs a module by building a payload and starting a new Python interpreter for it:
about 0.5 CPU-seconds per task on a small machine, which for a fleet of hubs is most of a
run. The project's modules that only ever run on the controller (they read inventory files,
call sops, talk to a registry) get an action plugin of their own name built on
``ControllerModuleAction``: the module's own ``main()`` runs in the worker Ansible has already
forked for the task, with the same arguments, internal settings and result handling as a
normal run. The module file stays the one implementation (and ``ansible-doc`` source).

A task with ``environment:``, ``async`` or a connection other than ``local`` runs the
module the normal way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.module_utils import basic
from ansible.module_utils.common import json as module_json
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

MODULES_DIR = Path(__file__).resolve().parent.parent / "modules"
PROFILE = "legacy"


def load_module(name: str) -> ModuleType:
    """The project's module ``name`` (plugins/modules/<name>.py), imported under a private name."""
    spec = importlib.util.spec_from_file_location(f"_ibh_controller_module_{name}", MODULES_DIR / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no module {name} in {MODULES_DIR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_output(module: ModuleType, args: dict[str, Any]) -> str:
    """What the module's main() prints (its JSON result) when given ``args``."""
    encoder = module_json.get_module_encoder(PROFILE, module_json.Direction.CONTROLLER_TO_MODULE)
    saved = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}, cls=encoder).encode()
    basic._ANSIBLE_PROFILE = PROFILE
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
            module.main()
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved
    return printed.getvalue()


class ControllerModuleAction(ActionBase):
    """Action plugin base: the module named like the task's action, run in this process."""


    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        if any(self._task.environment or []) or self._task.async_val or getattr(self._connection, "transport", "") != "local":
            return merge_hash(result, self._execute_module(task_vars=task_vars))
        return merge_hash(result, self.run_project_module(self._task.action.rsplit(".", 1)[-1], dict(self._task.args),
                                                          task_vars))

    def run_project_module(self, name: str, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """The result of the project's module ``name`` run here with ``args`` (and this task's
        check mode, diff mode and other internal settings)."""
        self._update_module_args(name, args, task_vars)
        with tempfile.TemporaryDirectory(prefix=f"ibh-{name}-") as scratch:
            args["_ansible_tmpdir"] = args["_ansible_remote_tmp"] = scratch
            try:
                output = module_output(load_module(name), args)
            except Exception as error:  # a module crash becomes the task failure
                return {"failed": True, "msg": f"module {name} failed: {type(error).__name__}: {error}"}
        return self._parse_returned_data({"stdout": output, "stderr": "", "rc": 0}, PROFILE)
