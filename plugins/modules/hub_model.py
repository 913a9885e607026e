#!/usr/bin/python
"""Documentation of the hub_model action plugin (plugins/action/hub_model.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_model
short_description: Validate one hub's inventory variables and return the normalized hub model
description:
  - Runs on the controller (action plugin). Reads the hub's variables from the task's
    variables, no arguments needed - C(hub_*), C(cluster_*), C(jupyterhub_*) and
    C(binderhub_service_*) - applies their defaults and validates them, collecting B(all)
    errors before failing.
  - Every error names the hub, the variable path (for example
    C(jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex)) and what is
    expected.
  - "Checks include: unknown provider, stage or chart source; a hub name or namespace that
    is not a DNS label (RFC 1123, at most 63 characters); dynamic image building on an
    option whose key is not C(image) or without C(unlisted_choice.enabled); a validation
    regex that does not compile; a test authenticator (C(dummy), C(null), C(tmp)) where
    C(cluster_local) is not true, without C(jupyterhub_test_authenticator_opt_in); open access
    (C(allow_all) other than on Google restricted to C(allowed_hosted_domains), open sign-up,
    C(shared_password), C(tmp)) without C(jupyterhub_open_access_opt_in); a secret in
    C(jupyterhub_auth.extra_config); Google user names of the wrong form;
    an authenticator that lets nobody but admins in; NFS storage without server or path;
    unknown keys in any of the hub's mappings and unknown C(hub_*), C(jupyterhub_*),
    C(binderhub_service_*) variables (typos); extra values files that do not exist or
    whose top-level keys are not C(jupyterhub), C(binderhub-service), C(dask-gateway);
    node pools without C(core) and C(user); a build node pool that does not exist."
  - Relative C(hub_values_files) start at the inventory directory. The variables, their
    meaning and defaults are listed in the READMEs of the C(jupyterhub) and
    C(binderhub_service) roles.
  - Changes nothing; runs in check mode too.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options: {}
attributes:
  check_mode:
    support: full
  action:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - The model itself is computed by C(plugins/plugin_utils/hub_model.py).
"""

EXAMPLES = r"""
- name: Validate the hub's inputs
  hub_model:
  register: _jupyterhub_model

- name: Show the hub's namespace
  ansible.builtin.debug:
    msg: "{{ _jupyterhub_model.model.hub.namespace }}"
"""

RETURN = r"""
model:
  description:
    - The normalized hub model - C(hub), C(cluster), C(jupyterhub), C(binderhub_service),
      C(releases) (per release key - name, chart_ref, chart_version, chart_repo_url,
      namespace) and C(values_files) (path and content of each extra values file).
  returned: success
  type: dict
errors:
  description: Every problem found, one message each, naming the hub and the variable.
  returned: failure
  type: list
  elements: str
hub:
  description: The hub whose inputs failed validation.
  returned: failure
  type: str
"""
