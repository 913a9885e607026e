"""The names of built images, against the genuine BinderHub's own naming code (the wheel in
../shared/binderhub, read, never installed into the project), and the rule that a hub's spawn
form must accept them."""

from __future__ import annotations

import ast
import hashlib
import string
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import escapism
import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.built_images import built_image_name, github_example
from support import ROOT
from test_release_rules import _rendering, problems

WHEELS = sorted((ROOT.parent / "shared" / "binderhub").glob("binderhub-*.whl"))


def genuine_image_name() -> Callable[[str, str, str], str]:
    """BuildHandler's naming, from the wheel's builder.py: its _safe_build_slug, and the name
    as BuildHandler.get builds it (kept in step with that code by the comparison below)."""
    if not WHEELS:
        pytest.skip("../shared/binderhub holds no BinderHub wheel")
    with zipfile.ZipFile(WHEELS[-1]) as wheel:
        source = wheel.read("binderhub/builder.py").decode()
    module = ast.parse(source)
    function = next(node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "_safe_build_slug")
    assert '"{prefix}{build_slug}:{ref}".format(' in source and '.replace("_", "-")' in source, \
        "BinderHub names built images differently now: read BuildHandler.get again"
    scope: dict[str, Any] = {"hashlib": hashlib, "string": string, "escapism": escapism}
    exec(compile(ast.Module(body=[function], type_ignores=[]), "builder.py", "exec"), scope)  # noqa: S102
    safe = scope["_safe_build_slug"]

    def name(prefix: str, slug: str, ref: str) -> str:
        return f"{prefix}{safe(slug, limit=255 - len(prefix))}:{ref}".replace("_", "-").lower()
    return name


@pytest.mark.parametrize(("prefix", "slug", "ref"), [
    ("127.0.0.1:5443/staging/", "binder-examples-requirements", "a" * 40),
    ("us-central1-docker.pkg.dev/proj/hub-registry/", "Some_Org-My.Repo", "0123456789abcdef0123456789abcdef01234567"),
    ("quay.io/org/local-research-", "https://example.org/é/repo.git", "main"),
    ("r/", "x" * 400, "b" * 40),
])
def test_names_are_the_genuine_binderhubs(prefix: str, slug: str, ref: str) -> None:
    assert built_image_name(prefix, slug, ref) == genuine_image_name()(prefix, slug, ref)


def test_demo_hubs_accept_their_built_images(tmp_path: Path) -> None:
    for host in ("staging", "research"):
        assert problems(_rendering(tmp_path, None, host)) == [], host


def test_a_form_that_rejects_built_images_is_refused(tmp_path: Path) -> None:
    from hub_support import LOCAL_INVENTORY, inventory_hub

    profiles = inventory_hub("staging", LOCAL_INVENTORY).variables["jupyterhub_profiles"]
    index = next(i for i, p in enumerate(profiles) if p.get("options", {}).get("image", {}).get("dynamic_image_building"))
    narrowed = [dict(p) for p in profiles]
    image = dict(narrowed[index]["options"]["image"])
    image["unlisted_choice"] = {**image["unlisted_choice"], "validation_regex": r"^quay\.io/jupyter/.+:.+$"}
    narrowed[index] = {**narrowed[index], "options": {**narrowed[index]["options"], "image": image}}
    rendering = _rendering(tmp_path, None, "staging", jupyterhub_profiles=narrowed)
    found = [m for m in problems(rendering) if "validation_regex" in m]
    example = github_example(rendering.registry.image_prefix)
    assert len(found) == 1, found
    assert found[0].startswith("hub 'staging': ") and f"jupyterhub.singleuser.profileList[{index}].profile_options" \
        ".image.unlisted_choice.validation_regex" in found[0], found
    assert r"'^quay\\.io/jupyter/.+:.+$'" in found[0] and repr(example) in found[0], found
