#!/usr/bin/python
"""Documentation of the hub_values action plugin (plugins/action/hub_values.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_values
short_description: Render one hub's helm values per release from the validated hub model
description:
  - Runs on the controller (action plugin). Builds the validated hub model like
    M(imagebuilding.hubs.hub_model) (and fails the same way), then renders the non-secret helm values of each
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
  - "sops-encrypted entries of C(hub_values_files) (a top-level C(sops) key with its metadata)
    are left out of RV(values) and listed in RV(encrypted_values_files). With O(decrypt=true) they
    are decrypted in memory (C(sops --decrypt --output-type yaml FILE), read from sops' stdout,
    with the controller's environment such as C(SOPS_AGE_KEY_FILE)), checked like the other
    values files and layered in their listed order; nothing decrypted is written to disk. The
    result then holds secret values, so O(decrypt=true) is refused unless the task has
    C(no_log: true). A file sops cannot decrypt fails the task with RV(decrypt_error), which
    names the hub and the file and holds no value (the roles report it with a separate task,
    since C(no_log) hides the failed task's message)."
  - Changes nothing; runs in check mode too.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_sops
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  registry:
    description:
      - The hub's registry definition. Defaults to the C(registry_definition) fact the
        C(registry) role sets.
    type: dict
  decrypt:
    description:
      - "Decrypt the sops-encrypted values files and layer them into RV(values); return their
        decrypted contents as RV(secret_values). Needs C(no_log: true) on the task."
    type: bool
    default: false
  secrets_file:
    description:
      - "The hub's sops-encrypted secret values file (C(secrets_values_file) of the secrets role's
        C(load)). Checked to exist and be encrypted, decrypted in memory, checked for the keys the
        O(releases) need, and merged over each release's values into RV(release_values).
        Needs C(no_log: true) on the task; on failure RV(error) says why, naming no value."
    type: path
  releases:
    description: The releases whose final values RV(release_values) holds (default every release of the hub).
    type: list
    elements: str
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
  - The values are computed by C(plugins/plugin_utils/hub_values.py).
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

- name: Layer the hub's sops-encrypted values files too, in memory
  hub_values:
    decrypt: true
  register: _jupyterhub_layered
  no_log: true
  failed_when: false  # the next task reports decrypt_error, which holds no secret

- name: Report a values file that sops could not decrypt
  ansible.builtin.fail:
    msg: "{{ _jupyterhub_layered.decrypt_error }}"
  when: _jupyterhub_layered.decrypt_error is defined
"""

RETURN = r"""
values:
  description:
    - Helm values per release key (C(jupyterhub), C(binderhub-service), C(dask-gateway)).
    - Without O(decrypt), the sops-encrypted values files are left out; with it, they are layered
      in their listed order (secret values, so the task must have C(no_log)).
  returned: success
  type: dict
encrypted_values_files:
  description: The sops-encrypted entries of C(hub_values_files), as absolute paths in their listed order.
  returned: success
  type: list
  elements: str
secret_values:
  description:
    - The decrypted contents of the sops-encrypted values files, in their listed order, for
      redacting helm's output and diffs.
    - With O(secrets_file), a mapping instead - C(secrets_file) (the hub's decrypted secret values
      file) and C(values_files) (that list).
  returned: success and O(decrypt=true)
  type: raw
release_values:
  description: Each release's final values (rendered, values files, the secret values file on top).
  returned: success with O(secrets_file)
  type: dict
error:
  description: Why the final values could not be made (names the hub, the file and missing keys; no value).
  returned: failure with O(secrets_file)
  type: str
decrypt_error:
  description:
    - Why an encrypted values file could not be used (sops could not decrypt it, or its values are
      invalid), naming the hub and the file; never any value.
  returned: failure with O(decrypt=true)
  type: str
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
