"""What each check of a hub reads, taken from the host's variables as the roles would see them.

``hub_validate`` (every selected hub, ``playbooks/validate.yml``) and ``hub_preflight`` (one hub,
the validate play of ``playbooks/hub.yml``) read a hub's inputs the same way: the host's variables
from ``hostvars`` - templated in that host's context, with the registry and secrets roles'
defaults and vars under and over them as when the roles run - and from them what each check
reads: the hub model's variables, the registry role's ``registry_check`` arguments (taken from
``roles/registry/tasks/validate.yml`` itself), the secrets role's file, leak guard paths and
tokens, the roles' argument specs. The checks are ``plugin_utils/hub_validation.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleError, AnsibleValueOmittedError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.imagebuilding.hubs.plugins.filter.hub_image_building import hub_image_building
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_validation import HubInputs, SpecCheck, by_host
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_layers import ROLES_DIR, role_layer
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_specs import role_options
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import leak_guard_paths, secret_values_file

ROLE_DEFAULTS = ("registry/defaults/main.yml", "secrets/defaults/main.yml")
ROLE_VARS = ("registry/vars/main.yml", "secrets/vars/main.yml")
REGISTRY_TASKS = "registry/tasks/validate.yml"
REGISTRY_CHECK = "imagebuilding.hubs.registry_check"
# The argument specs the validate play of playbooks/hub.yml checks (the registry's only for a hub
# that builds images): the roles' own validation of their validate entry points, and the hub roles'.
SPECS = (("secrets", "validate"), ("binderhub_service", "main"), ("jupyterhub", "main"))
REGISTRY_SPEC = ("registry", "validate")
OMITTED = object()  # an argument templated to omit
# "{{ name }}": read as the variable itself, without compiling Jinja (most of the roles' arguments).
VARIABLE_REFERENCE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def registry_check_args(loader: DataLoader) -> dict[str, Any]:
    """The arguments the registry role's validate entry point gives ``registry_check`` (templates)."""
    tasks = loader.load_from_file(str(ROLES_DIR / REGISTRY_TASKS), trusted_as_template=True) or []
    for task in tasks:
        if isinstance(task, Mapping) and REGISTRY_CHECK in task:
            return dict(task[REGISTRY_CHECK])
    raise AnsibleError(f"hub_validate: no {REGISTRY_CHECK} task in {ROLES_DIR / REGISTRY_TASKS}")


class HubContext:
    """One host's variables as the registry and secrets roles see them (their defaults under the
    host's variables, their vars over them), each templated when read. A variable that does not
    template is a problem of the hub, named, and reads as missing."""

    def __init__(self, host: str, raw: Mapping[str, Any], layers: tuple[dict[str, Any], dict[str, Any]],
                 templar: Templar) -> None:
        self.host, self.raw = host, raw
        self.variables = {**layers[0], **raw, **layers[1]}
        self.templar = templar  # shared by every host's context: pointed at this one's variables on each use
        self.problems: list[str] = []
        self._values: dict[str, Any] = {}  # each variable templated once

    def _failed(self, what: str, error: AnsibleError) -> None:
        self.problems.append(f"hub {self.host!r}: {what}: does not template ({type(error).__name__}: "
                             f"{str(error).splitlines()[0]}); expected a value or an expression that renders")

    def value(self, name: str) -> Any:  # noqa: ANN401 - any variable
        if name not in self.variables:
            return None
        if name not in self._values:
            self.templar.available_variables = self.variables
            try:
                self._values[name] = plain(self.templar.template(self.variables[name]))
            except AnsibleError as error:
                self._failed(name, error)
                self._values[name] = None
        return self._values[name]

    def expression(self, text: object) -> Any:  # noqa: ANN401 - whatever the expression gives
        """A role's expression (``"{{ registry_url }}"``); a plain variable reference is read directly."""
        reference = VARIABLE_REFERENCE.match(text) if isinstance(text, str) else None
        if reference:
            return self.value(reference.group(1))
        self.templar.available_variables = self.variables
        try:
            return self.templar.template(trust_as_template(text) if isinstance(text, str) else text)
        except AnsibleValueOmittedError:  # "| default(omit)": the argument is left out, as in a task
            return OMITTED
        except AnsibleError as error:
            self._failed(str(text), error)
            return None


class HostView(Mapping[str, Any]):
    """The host's own variables (not the roles'), templated when read (``HubContext.value``)."""

    def __init__(self, context: HubContext) -> None:
        self.context = context

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401 - any variable
        if key not in self.context.raw:
            raise KeyError(key)
        return self.context.value(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.context.raw)

    def __len__(self) -> int:
        return len(self.context.raw)


class InputsReader:
    """The hubs' inputs in one run: the roles' files, the registry role's arguments and the argument
    specs read once, each host's variables read through a ``HubContext`` of its own."""

    def __init__(self, loader: DataLoader, templar: Templar, hostvars: Any) -> None:  # noqa: ANN401 - HostVars
        self.layers = (role_layer(loader, ROLE_DEFAULTS), role_layer(loader, ROLE_VARS))
        self.registry_args = registry_check_args(loader)
        self.specs = {(role, entry): role_options(role, entry) for role, entry in (*SPECS, REGISTRY_SPEC)}
        self.templar = templar.copy_with_new_env(available_variables={})
        self.hostvars = hostvars

    def context(self, host: str) -> HubContext:
        return HubContext(host, self.hostvars.raw_get(host), self.layers, self.templar)

    def inputs(self, context: HubContext, duplicates: Mapping[str, list[str]] | None = None) -> HubInputs:
        """What the hub's checks read, each in the hub's context."""
        host = context.host
        view = HostView(context)
        model_variables = collect_variables(view, lambda value: value)
        hub = str(model_variables.get("hub_name") or host)
        builds_images = hub_image_building(view)
        secrets_dir, inventory_dir = context.value("secrets_dir"), context.raw.get("inventory_dir")
        checks = [self._spec(role, entry, context) for role, entry in SPECS]
        registry = None
        if builds_images:
            checks.append(self._spec(*REGISTRY_SPEC, context))
            registry = {key: context.expression(value) for key, value in self.registry_args.items()}
            registry = {key: value for key, value in registry.items() if value is not OMITTED}
        return HubInputs(
            host=host, hub=hub, cluster=str(context.value("cluster_name") or ""),
            base_dir=str(inventory_dir or Path.cwd()), model_variables=model_variables, builds_images=builds_images,
            fleet_problems=[str(problem) for problem in context.value("fleet_problems") or []],
            duplicate_problems=by_host(duplicates, host), template_problems=context.problems, specs=checks,
            registry_args=registry, secrets_file=secret_values_file(str(secrets_dir), hub) if secrets_dir else "",
            guard_paths=leak_guard_paths(secrets_dir, inventory_dir, context.value("hub_values_files"),
                                         context.value("secrets_leak_guard_paths")),
            tokens=context.value("secrets_generated_tokens"), extra_values=context.value("secrets_extra_values"),
            sops_binary=str(context.value("secrets_sops_binary") or "sops"),
            age_keyfile=str(context.value("secrets_sops_age_keyfile") or ""),
            sops_config_path=str(context.value("secrets_sops_config_path") or ""))

    def _spec(self, role: str, entry: str, context: HubContext) -> SpecCheck:
        """The options the host sets (the roles' defaults are valid by construction: a test keeps the
        specs' defaults equal to them), each templated; ``no_log`` ones are left to their checks."""
        options = self.specs[(role, entry)]
        values = {name: context.value(name) for name in options if name in context.raw and not options[name].get("no_log")}
        return SpecCheck(role, entry, options, values)
