#!/usr/bin/python
"""Documentation of the hub_values action plugin (plugins/action/hub_values.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_values
short_description: Render one hub's helm values per release from the validated hub model
description:
  - Runs on the controller (action plugin). Builds the validated hub model like
    M(hub_model) (and fails the same way), then renders the non-secret helm values of each
    release the hub deploys - C(jupyterhub), C(binderhub-service) and, with
    C(hub_dask_gateway_enabled), C(dask-gateway) - and layers the hub's
    C(hub_values_files) on top in order (dicts merge by key, lists and scalars are
    replaced), split per release.
  - "JupyterHub: authenticator and admin users, home storage (dynamic PVCs or an NFS share
    as a static PVC), C(singleuser.profileList) in KubeSpawner's format, the C(binder)
    service with its URL, OAuth client and redirect URI, the users' scope
    C(access:services!service=binder), the fancy-profiles C(setup_ui(c)) snippet, a hub
    image with fancy-profiles, C(imagePullSecret) when the registry needs one, node
    selectors of the core and user pools."
  - "BinderHub: C(config.BinderHub) (base_url C(/services/binder), use_registry,
    auth_enabled, enable_api_only_mode, image_prefix, hub_url), C(config.HubOAuth) to check
    users' tokens with the hub as the C(binder) service, C(config.DockerRegistry) and
    C(buildPodsRegistryCredentials) from the registry definition, node selectors of the
    build pool, the docker cache size limit."
  - Reads only C(type), C(host), C(url), C(image_prefix), C(username) and
    C(pull_secret_required) of the registry definition; the password never enters the
    result. Secret values (see RV(required_secret_keys)) come from the hub's sops-encrypted secret
    values file, which the roles merge on top with C(no_log).
  - Changes nothing; runs in check mode too.
version_added: "1.0.0"
author: imagebuilding-hubs
options:
  registry:
    description:
      - The hub's registry definition. Defaults to the C(registry_definition) fact the
        C(registry) role sets.
    type: dict
attributes:
  check_mode:
    support: full
  action:
    support: full
notes:
  - The values are computed by C(plugins/module_utils/hub_values.py).
"""

EXAMPLES = r"""
- name: Render the hub's helm values
  hub_values:
  register: _jupyterhub_rendered

- name: Render with an explicit registry definition
  hub_values:
    registry:
      type: generic
      host: 127.0.0.1:5443
      url: https://127.0.0.1:5443
      image_prefix: 127.0.0.1:5443/local-research/
      username: research
      pull_secret_required: false
  register: _jupyterhub_rendered
"""

RETURN = r"""
values:
  description: Helm values per release key (C(jupyterhub), C(binderhub-service), C(dask-gateway)).
  returned: success
  type: dict
releases:
  description: Per release key - C(name), C(chart), C(chart_ref), C(chart_version), C(chart_repo_url), C(namespace).
  returned: success
  type: dict
objects:
  description: Kubernetes objects the hub needs besides the releases (the NFS PersistentVolume and claim).
  returned: success
  type: list
  elements: dict
namespace:
  description: The hub's namespace.
  returned: success
  type: str
required_secret_keys:
  description:
    - Dotted keys the hub's secret values file must hold (the binder token, the OAuth client
      secret, the registry password in each place, the pull secret's password when needed).
  returned: success
  type: list
  elements: str
"""

if __name__ == "__main__":  # pragma: no cover - the action plugin runs instead
    raise SystemExit("hub_values is an action plugin: run it as an Ansible task")
