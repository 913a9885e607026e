"""The rendered ``singleuser.profileList`` is what KubeSpawner accepts.

The real ``kubespawner.KubeSpawner`` (jupyterhub-kubespawner, as z2jh passes
``singleuser.profileList`` to ``c.KubeSpawner.profile_list``) loads every profile, every
choice of every option and the unlisted choice of each hub of inventories/local (and of
inventories/example), through
``load_user_options`` as JupyterHub calls it before a spawn; and it rejects an unlisted
image that fails the option's validation regex. Only the Kubernetes client set-up is
replaced (no cluster is needed to load options).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import re
from typing import Any

import kubespawner.spawner
import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import render_values
from hub_support import (
    EXAMPLE_INVENTORY,
    LOCAL_INVENTORY,
    inventory_hosts,
    inventory_hub,
    local_registry_definition,
)
from kubespawner import KubeSpawner

# An image each demo regex accepts, and one each rejects (no tag).
GOOD_UNLISTED_IMAGE = "quay.io/example/custom-notebook:2024.1"
BAD_UNLISTED_IMAGE = "quay.io/example/custom-notebook"


@pytest.fixture(autouse=True)
def _no_kubernetes_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """KubeSpawner builds a Kubernetes API client in __init__; loading options needs none."""
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **_: None)
    monkeypatch.setattr(kubespawner.spawner, "shared_client", lambda *_, **__: object())


def profile_list(host: str) -> list[dict[str, Any]]:
    """The hub's rendered singleuser.profileList (a fresh copy each time)."""
    return copy.deepcopy(_rendered_profile_list(host))


# Every hub of both inventories (host names are unique across them) -> its inventory.
INVENTORY_OF = {host: inventory for inventory in (LOCAL_INVENTORY, EXAMPLE_INVENTORY) for host in inventory_hosts(inventory)}
DEMO_HOSTS = inventory_hosts(LOCAL_INVENTORY)


@functools.cache
def _rendered_profile_list(host: str) -> list[dict[str, Any]]:
    hub = inventory_hub(host, INVENTORY_OF[host])
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    values = render_values(model, registry_view(local_registry_definition(hub), model.hub.name))
    return values["jupyterhub"]["singleuser"]["profileList"]


def load(profiles: list[dict[str, Any]], user_options: dict[str, str]) -> KubeSpawner:
    """A KubeSpawner configured like z2jh does, after JupyterHub loaded the user's options."""
    spawner = KubeSpawner(_mock=True, profile_list=profiles)
    spawner.user_options = user_options
    asyncio.run(spawner.load_user_options())
    return spawner


def cases(host: str) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(case id, host, user options, expected spawner settings) for every choice of every option."""
    found = []
    for profile in profile_list(host):
        slug = profile["slug"]
        expected_profile = dict(profile.get("kubespawner_override", {}))
        # Only the profile picked: KubeSpawner applies each option's default choice.
        defaults = dict(expected_profile)
        for option in profile.get("profile_options", {}).values():
            choices = list(option["choices"].values())
            defaults.update(next((c for c in choices if c.get("default")), choices[0])["kubespawner_override"])
        found.append((f"{host}/{slug}", host, {"profile": slug}, defaults))
        for option_key, option in profile.get("profile_options", {}).items():
            for choice_key, choice in option["choices"].items():
                expected = {**expected_profile, **choice["kubespawner_override"]}
                found.append((f"{host}/{slug}/{option_key}={choice_key}", host,
                              {"profile": slug, option_key: choice_key}, expected))
    return found


ALL_CASES = [case for host in INVENTORY_OF for case in cases(host)]


@pytest.mark.parametrize(("host", "user_options", "expected"), [c[1:] for c in ALL_CASES], ids=[c[0] for c in ALL_CASES])
def test_every_choice_loads(host: str, user_options: dict[str, str], expected: dict[str, Any]) -> None:
    spawner = load(profile_list(host), user_options)
    assert expected, "every case sets something"
    reference = KubeSpawner(_mock=True)
    for name, value in expected.items():
        setattr(reference, name, value)  # traitlets converts (e.g. "2G" -> bytes) the same way
        assert getattr(spawner, name) == getattr(reference, name), name


def unlisted_cases() -> list[tuple[str, str, str, str]]:
    """(host, profile slug, option key, validation regex) of every enabled unlisted choice."""
    found = []
    for host in INVENTORY_OF:
        for profile in profile_list(host):
            for option_key, option in profile.get("profile_options", {}).items():
                unlisted = option.get("unlisted_choice", {})
                if unlisted.get("enabled"):
                    found.append((host, profile["slug"], option_key, unlisted.get("validation_regex", "")))
    return found


UNLISTED = unlisted_cases()


def test_demo_hubs_have_unlisted_images_with_dynamic_building() -> None:
    assert set(DEMO_HOSTS) <= {host for host, *_ in UNLISTED}
    for host in INVENTORY_OF:
        for profile in profile_list(host):
            for key, option in profile.get("profile_options", {}).items():
                if option.get("dynamic_image_building", {}).get("enabled"):
                    assert key == "image" and option["unlisted_choice"]["enabled"] is True


@pytest.mark.parametrize(("host", "slug", "option", "regex"), UNLISTED, ids=[f"{c[0]}/{c[1]}/{c[2]}" for c in UNLISTED])
def test_unlisted_choice_loads_typed_image(host: str, slug: str, option: str, regex: str) -> None:
    assert re.match(regex, GOOD_UNLISTED_IMAGE)
    spawner = load(profile_list(host), {"profile": slug, f"{option}--unlisted-choice": GOOD_UNLISTED_IMAGE})
    assert spawner.image == GOOD_UNLISTED_IMAGE


@pytest.mark.parametrize(("host", "slug", "option", "regex"), UNLISTED, ids=[f"{c[0]}/{c[1]}/{c[2]}" for c in UNLISTED])
def test_unlisted_choice_rejects_image_failing_regex(host: str, slug: str, option: str, regex: str) -> None:
    assert regex and not re.match(regex, BAD_UNLISTED_IMAGE)
    with pytest.raises(ValueError, match="failed validation regex"):
        load(profile_list(host), {"profile": slug, f"{option}--unlisted-choice": BAD_UNLISTED_IMAGE})


def test_unknown_profile_is_rejected() -> None:
    host = DEMO_HOSTS[0]
    with pytest.raises(ValueError, match="No such profile"):
        load(profile_list(host), {"profile": "no-such-profile"})


def test_default_profile_and_choice_without_user_options() -> None:
    for host in INVENTORY_OF:
        profiles = profile_list(host)
        default = next((p for p in profiles if p.get("default")), profiles[0])
        spawner = load(profiles, {})
        image_option = default.get("profile_options", {}).get("image")
        if image_option:
            chosen = next((c for c in image_option["choices"].values() if c.get("default")),
                          next(iter(image_option["choices"].values())))
            assert spawner.image == chosen["kubespawner_override"]["image"]
