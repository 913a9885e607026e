"""The variables the hub model reads, their defaults (from the hub roles' argument specs, where
they are written once) and the toolkit's other variables: an unknown one with a toolkit prefix
is a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import FACTS as REGISTRY_FACTS
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import VARIABLE_TYPES as REGISTRY_VARIABLE_TYPES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import Errors, did_you_mean
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_specs import option_defaults, role_options

# Every inventory variable the hub model reads; each one's default (None: required, or no
# default) comes from the hub roles' argument specs (role_specs.py), where it is written once.
MODEL_VARIABLES = (
    # hub (host_vars); hub_name defaults to inventory_hostname (filled in by the caller),
    # hub_namespace "" -> hub_name, hub_charts_dir is required with hub_charts_source: directory
    "hub_name", "hub_namespace", "hub_domain", "hub_stage", "hub_values_files", "hub_charts_source",
    "hub_charts_dir", "hub_dask_gateway_enabled", "hub_image_building", "hub_adoption_umbrella", "hub_adoption_accepted",
    "hub_companion_releases",
    # cluster (group_vars)
    "cluster_name", "cluster_provider", "cluster_local", "cluster_kubeconfig", "cluster_kube_context",
    "cluster_node_pools", "cluster_max_parallel_deploys",
    # jupyterhub role (release names "" -> release_name_default())
    "jupyterhub_chart_version", "jupyterhub_chart_repo", "jupyterhub_chart_ref", "jupyterhub_release_name",
    "jupyterhub_dask_gateway_chart_version", "jupyterhub_dask_gateway_chart_repo", "jupyterhub_dask_gateway_chart_ref",
    "jupyterhub_dask_gateway_release_name", "jupyterhub_auth", "jupyterhub_admin_users", "jupyterhub_open_access_opt_in",
    "jupyterhub_test_authenticator_opt_in",
    "jupyterhub_storage", "jupyterhub_profiles", "jupyterhub_hub_image", "jupyterhub_ingress",
    # binderhub_service role
    "binderhub_service_chart_version", "binderhub_service_chart_repo", "binderhub_service_chart_ref",
    "binderhub_service_release_name", "binderhub_service_build_node_pool", "binderhub_service_docker_cache_size",
)
_SPEC_DEFAULTS = option_defaults("jupyterhub", "binderhub_service")
DEFAULTS: dict[str, Any] = {name: _SPEC_DEFAULTS.get(name) for name in MODEL_VARIABLES}
# Variables the roles use that the model does not read (deploy mechanics, not hub data).
ROLE_ONLY_VARIABLES = ("jupyterhub_helm_timeout", "binderhub_service_helm_timeout",
                       # Rollouts: re-apply unchanged releases, health check timeout, the report's fact,
                       # waves, and how long a rollout lock left behind stays valid.
                       "hub_force", "hub_health_timeout", "hub_rollout_releases", "hub_rollout_plan",
                       "hub_rollout_max_fail_percentage", "hub_rollout_lock_seconds", "hub_rollout_compared",
                       # Stop every hub when one fails validation.
                       "hub_rollout_strict",
                       # Take the hub over from the incumbent's release (plugins/action/hub_takeover.py).
                       "hub_takeover_release",
                       # The smoke check after the health check (playbooks/smoke.yml, plugins/action/hub_smoke.py).
                       "hub_smoke", "hub_smoke_url", "hub_smoke_timeout", "hub_smoke_validate_certs",
                       # The fleet's version map (playbooks/status.yml): its facts and switches.
                       "hub_status_rows", "hub_status_report_path", "hub_status_fail_on_drift",
                       # Upgrade batches and the gate between them (plugins/action/hub_upgrade_gate.py).
                       "hub_upgrade_batch", "hub_upgrade_batches", "hub_upgrade_soak",
                       "hub_upgrade_run_batch",
                       # The hubs a change affects (playbooks/affected.yml).
                       "hub_changed_files", "hub_affected_limit_file", "hub_affected_report_file",
                       # The validate-only entry point (playbooks/validate.yml): its report and switch.
                       "hub_validate_report", "hub_validate_require_decrypt",
                       # The hub roles' inputs wired from the other roles by the playbook.
                       "jupyterhub_registry", "jupyterhub_secrets_file", "jupyterhub_recover_pending",
                       # Which of the hub's companion releases the jupyterhub role's companions entry deploys.
                       "jupyterhub_companions_order",
                       "binderhub_service_registry", "binderhub_service_secrets_file", "binderhub_service_recover_pending")
# Variables with these prefixes belong to this model: an unknown one is a typo.
CHECKED_PREFIXES = ("hub_", "jupyterhub_", "binderhub_service_")


def value_of(variables: Mapping[str, Any], name: str) -> object:
    """The variable's value, or its default (a copy, so callers may keep it)."""
    if name in variables and variables[name] is not None:
        return variables[name]
    default = DEFAULTS.get(name)
    if isinstance(default, dict):
        return dict(default)
    if isinstance(default, list):
        return list(default)
    return default


# The rule for the hub's variables, in one place:
# - a variable with a prefix of the toolkit (PROJECT_PREFIXES) that the toolkit does not know is a
#   typo: an error naming the hub and the variable, with the nearest known name of its prefix
#   (``check_unknown_variables``, in every build of the model);
# - a known registry variable given for a hub whose registry_type does not read it (gcp settings
#   on a quay hub, registry_url on gcp) is ignored: a warning naming the hub, the variables and the
#   types that read them (``registry_rules.ignored_variables``, warned by the registry role's check).
# Variables without such a prefix (a fleet's own, like fleet_admins) are the inventory's business.
PROJECT_PREFIXES = ("hub_", "cluster_", "jupyterhub_", "binderhub_service_", "registry_", "secrets_")
# The secrets role's variables (meta/argument_specs.yml; a test keeps both in step) and its fact.
SECRETS_VARIABLES = tuple(name for name in role_options("secrets") if name.startswith("secrets_"))
SECRETS_FACTS = ("secrets_values_file",)
KNOWN_VARIABLES = frozenset((*DEFAULTS, *ROLE_ONLY_VARIABLES, *REGISTRY_VARIABLE_TYPES, *REGISTRY_FACTS,
                             *SECRETS_VARIABLES, *SECRETS_FACTS))


def check_unknown_variables(errs: Errors, variables: Mapping[str, Any]) -> None:
    """A variable with a prefix of the toolkit (hub_, cluster_, jupyterhub_, binderhub_service_,
    registry_, secrets_) that the toolkit does not know is a typo. Only the names are read."""
    for name in sorted(variables):
        if name.startswith(PROJECT_PREFIXES) and name not in KNOWN_VARIABLES:
            prefix = next(p for p in PROJECT_PREFIXES if name.startswith(p))
            errs.add(name, "unknown variable", "one of the variables listed in the role READMEs"
                     + did_you_mean(name, [k for k in KNOWN_VARIABLES if k.startswith(prefix)]))


def collect_variables(task_vars: Mapping[str, Any], template: Callable[[Any], Any]) -> dict[str, Any]:
    """The model's variables out of a task's variables, each passed through ``template``.

    ``hub_name`` defaults to the inventory hostname.
    """
    names = [n for n in task_vars if n.startswith((*CHECKED_PREFIXES, "cluster_")) or n in DEFAULTS]
    variables = {name: template(task_vars[name]) for name in names}
    # The registry and secrets roles' variables by name only, for check_unknown_variables: their
    # values are those roles' business (some are secrets), so they are neither templated nor kept.
    variables.update({n: None for n in task_vars if n.startswith(PROJECT_PREFIXES) and n not in variables})
    if not variables.get("hub_name"):
        variables["hub_name"] = task_vars.get("inventory_hostname")
    return variables
