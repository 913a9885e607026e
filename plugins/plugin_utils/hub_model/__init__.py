"""The validated hub model: one hub's inventory variables -> a typed, normalized model.

Data flows one way (see README, "Interfaces between the roles"): inventory variables ->
this model -> helm values per release (``hub_values``) -> helm. Every function here is a
plain function of its arguments apart from reading the hub's extra values files, so the
action plugins and the tests share one implementation.

Validation collects *all* errors of a hub before failing. Each error names the hub, the
variable path (``jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex``)
and what is expected, e.g.::

    hub 'research': jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex:
    '^(unclosed' does not compile (missing ), unterminated subpattern at position 1);
    expected a Python regular expression, as KubeSpawner applies it with re.match

Defaults come from the hub roles' argument specs (``variables.DEFAULTS``, read by ``role_specs``),
the one place they are written; the roles' ``defaults/main.yml`` equal them (a test checks).

One module per part: ``model`` (the types), ``readers`` (typed readers and ``Errors``),
``variables`` (what is read, defaults, unknown names), ``cluster``, ``auth``, ``storage``,
``profiles``, ``releases``, ``values_files``, ``companions`` (``hub_companion_releases``) and
``build`` (the entry point). This face hands on what the action plugins use.
"""


from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.build import build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import Errors, HubModelError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.values_files import decrypt_values_files
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import collect_variables

__all__ = ["Errors", "HubModel", "HubModelError", "build_model", "collect_variables", "decrypt_values_files"]
