"""Options shared by the project's plugins that run sops."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  sops_binary:
    description: The sops executable; C(sops) from E(PATH) when omitted.
    type: path
  age_keyfile:
    description: An age identities file for sops, passed as E(SOPS_AGE_KEY_FILE); the environment's when omitted.
    type: path
"""
