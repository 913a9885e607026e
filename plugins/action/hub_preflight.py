"""Action plugin ``hub_preflight``: every check of one hub before its rollout changes anything.

The validate play of ``playbooks/hub.yml`` runs it once per hub, in the hub's task worker: the
hub is read as the roles would see it (``plugin_utils/hub_inputs.py``) and checked by the checks
``playbooks/validate.yml`` runs for every hub (``plugin_utils/hub_validation.py``: the fleet's
entry, the hub model, the roles' argument specs, the registry settings, the secrets role's inputs
and leak guard, each release's chart pulled into the chart cache, the final values of every
release and companion release, the hub's sops-encrypted files decrypted in memory), then by
what only a rollout needs:

- every sops-encrypted file the rollout decrypts can be decrypted here;
- sops has a creation rule and keys for the hub's secret values file (module
  ``sops_preflight``'s probe: it encrypts a dummy document, and decrypts the file);
- a login to the hub's registry with the password it has, or the registry answers over verified
  TLS where the rollout makes the password (``plugin_utils/registry_access.py``).

A hub whose entry in the fleet's files has problems (``fleet_problems``) is reported with those
only: the other checks read what that entry gives. ``problems`` adds what another task found (the
comparison's: a name another hub uses, a cluster connection that cannot be used). Every problem is
reported at once, in one failure naming the hub (its ``msg``, a line per problem). Passed, the
result has what the deploy play wires into the roles: ``image_building``, ``registry``
(``registry_check``'s result, no password), ``registry_verified``; and the adoption report of a hub
adopted from an umbrella chart. Changes nothing; no decrypted value is in the result or a message.
"""

from __future__ import annotations

from typing import Any

import yaml
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils import sops_preflight
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure, RunContext
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import SopsDecryptError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_inputs import HubContext, InputsReader
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import adoption_report
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_preflight import helm_resolver
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_validation import CheckedHub, check_hubs
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import unused_sections
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import call_logic, logic_params
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.registry_access import (
    VARIABLES,
    RegistryAccessError,
    error_message,
    verify,
)

ARGS = ("problems", "helm")


def sops_problems(checked: CheckedHub, check_mode: bool) -> list[str]:
    """What keeps sops from encrypting the hub's secret values file (and decrypting it, when it exists)."""
    inputs = checked.inputs
    if not inputs.secrets_file or any(finding.check == "secrets" for finding in checked.report.problems):
        return []  # the secrets role's inputs have problems (reported): sops' configuration is not known
    args = {"path": inputs.secrets_file, "hub": inputs.hub, "sops_binary": inputs.sops_binary or None,
            "age_keyfile": inputs.age_keyfile or None, "config_path": inputs.sops_config_path or None}
    logic = sops_preflight.LOGIC
    try:
        call_logic(logic, logic_params(logic, args), RunContext(check_mode=check_mode))
    except ModuleFailure as failure:
        return [failure.msg]
    return []


def decrypt_problems(checked: CheckedHub) -> list[str]:
    """The encrypted files the rollout decrypts that sops cannot decrypt here (the checks went on without them)."""
    decrypter = checked.decrypter
    if decrypter is None:
        return []
    secrets_file = checked.inputs.secrets_file  # sops_preflight's probe says why, in its own words
    return [f"hub {checked.inputs.hub!r}: {decrypter.failure(path)}" for path in decrypter.unavailable
            if path != secrets_file]


def registry_login(checked: CheckedHub, context: HubContext, check_mode: bool) -> tuple[bool, list[str]]:
    """(logged in, problems): the registry role's login check with the settings that passed."""
    outcome = checked.registry
    if outcome is None or outcome.checked is None:
        return False, []
    variables = {name: context.value(name) for name in VARIABLES}
    try:
        return verify(outcome.checked, variables, checked.inputs.host, check_mode), []
    except (RegistryAccessError, SopsDecryptError, yaml.YAMLError) as error:
        return False, [error_message(error, variables, checked.inputs.host)]


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._templar.template(self._task.args.get(key)) for key in ARGS}
        check_mode = bool(self._task.check_mode)
        reader = InputsReader(self._loader, self._templar, task_vars["hostvars"])
        context = reader.context(str(task_vars["inventory_hostname"]))
        checked = check_hubs([reader.inputs(context)], helm_resolver(str(args["helm"] or "helm")), workers=2)[0]
        hub = checked.inputs.hub
        problems = [str(problem) for problem in args["problems"] or []]
        fleet = [finding.message for finding in checked.report.problems if finding.check == "fleet"]
        verified = False
        if fleet:  # the hub's entry in the fleet's files comes first: the other checks read what it gives
            problems += fleet
        else:
            problems += [finding.message for finding in checked.report.problems]
            problems += decrypt_problems(checked) + sops_problems(checked, check_mode)
            verified, login_problems = registry_login(checked, context, check_mode)
            problems += login_problems
        if problems:
            return {**result, "failed": True, "hub": hub,
                    "msg": f"hub {hub!r}: nothing was changed:\n- " + "\n- ".join(problems)}
        model = checked.model
        warnings = list(checked.report.warnings)
        unused = unused_sections(model) if model is not None else []
        if unused:  # never dropped without a word
            warnings.append(f"hub {hub}: not deployed, the hub has no such release: " + "; ".join(unused))
        outcome: dict[str, Any] = {
            **result, "changed": False, "hub": hub, "image_building": checked.builds_images,
            "registry": (checked.registry.checked or {}) if checked.registry is not None else {},
            "registry_verified": verified,
            "adoption": adoption_report(model, context.value("fleet_chart_pins")) if model is not None else []}
        if warnings:
            outcome["warnings"] = warnings
        return outcome
