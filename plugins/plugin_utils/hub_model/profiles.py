"""``jupyterhub_profiles``: KubeSpawner's profile list with its options, choices, unlisted choices and dynamic image building.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import (
    Choice,
    Profile,
    ProfileOption,
    UnlistedChoice,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    check_keys,
    read_bool,
    read_list,
    read_mapping,
    read_pattern,
    read_str,
)

# fancy-profiles shows "build from a repository" only on an option with this key.
IMAGE_OPTION_KEY = "image"
SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
OPTION_KEY_RE = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
PROFILE_KEYS = {"display_name", "slug", "description", "default", "kubespawner_override", "options"}
OPTION_KEYS = {"display_name", "choices", "unlisted_choice", "dynamic_image_building"}
CHOICE_KEYS = {"display_name", "description", "default", "image", "kubespawner_override"}
UNLISTED_KEYS = {"enabled", "display_name", "display_name_in_choices", "description_in_choices",
                 "validation_regex", "validation_message", "kubespawner_override"}
DYNAMIC_BUILD_KEYS = {"enabled"}


def slugify(text: str) -> str:
    """A profile slug from a display name: lower case, runs of other characters -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _read_override(errs: Errors, path: str, value: object) -> dict[str, Any]:
    override = read_mapping(errs, path, value)
    for key in override:
        if not re.match(r"^[a-z_][a-z0-9_]*$", str(key)):
            errs.add(f"{path}.{key}", "is not a KubeSpawner setting name", "a KubeSpawner trait such as image")
    return override


def _contains_value_placeholder(value: object) -> bool:
    if isinstance(value, str):
        return "{value}" in value
    if isinstance(value, Mapping):
        return any(_contains_value_placeholder(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_value_placeholder(v) for v in value)
    return False


def read_choice(errs: Errors, path: str, key: str, value: object, option_key: str) -> Choice:
    raw = read_mapping(errs, path, value, required=True)
    check_keys(errs, path, raw, CHOICE_KEYS)
    override = _read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override"))
    image = read_str(errs, f"{path}.image", raw.get("image"))
    if image:
        if re.search(r"\s", image) or image != image.strip():
            errs.add(f"{path}.image", f"{image!r} contains white space", "an image reference such as repo/name:tag")
        override["image"] = image
    if option_key == IMAGE_OPTION_KEY and not override.get("image"):
        errs.add(f"{path}.image", "is missing", "the image this choice starts (or kubespawner_override.image)")
    return Choice(
        key=key,
        display_name=read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True),
        description=read_str(errs, f"{path}.description", raw.get("description")),
        default=read_bool(errs, f"{path}.default", raw.get("default")),
        kubespawner_override=override,
    )


def _check_regex(errs: Errors, path: str, regex: str) -> None:
    try:
        re.compile(regex)
    except re.error as exc:
        errs.add(path, f"{regex!r} does not compile ({exc})",
                 "a Python regular expression, as KubeSpawner applies it with re.match")


def read_unlisted_choice(errs: Errors, path: str, value: object, option_key: str) -> UnlistedChoice:
    raw = read_mapping(errs, path, value, required=True)
    check_keys(errs, path, raw, UNLISTED_KEYS)
    enabled = read_bool(errs, f"{path}.enabled", raw.get("enabled"))
    regex = read_str(errs, f"{path}.validation_regex", raw.get("validation_regex"))
    if regex:
        _check_regex(errs, f"{path}.validation_regex", regex)
    override = _read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override"))
    if not override and option_key == IMAGE_OPTION_KEY:
        override = {"image": "{value}"}
    if enabled and not override:
        errs.add(f"{path}.kubespawner_override", "is missing",
                 "the KubeSpawner settings the typed value sets, with {value} where it goes")
    elif enabled and not _contains_value_placeholder(override):
        errs.add(f"{path}.kubespawner_override", "does not use the typed value",
                 "{value} in one of its strings, e.g. {image: '{value}'}")
    return UnlistedChoice(
        enabled=enabled,
        display_name=read_str(errs, f"{path}.display_name", raw.get("display_name"), required=enabled),
        display_name_in_choices=read_str(errs, f"{path}.display_name_in_choices",
                                          raw.get("display_name_in_choices")),
        description_in_choices=read_str(errs, f"{path}.description_in_choices", raw.get("description_in_choices")),
        validation_regex=regex,
        validation_message=read_str(errs, f"{path}.validation_message", raw.get("validation_message")),
        kubespawner_override=override,
    )


def _read_dynamic_building(errs: Errors, path: str, value: object) -> bool:
    raw = read_mapping(errs, path, value)
    check_keys(errs, path, raw, DYNAMIC_BUILD_KEYS)
    return read_bool(errs, f"{path}.enabled", raw.get("enabled"))


def _check_single_default(errs: Errors, path: str, defaults: list[str], what: str) -> None:
    if len(defaults) > 1:
        errs.add(path, f"{len(defaults)} {what} are marked default ({', '.join(defaults)})", f"at most one {what[:-1]}")


def read_option(errs: Errors, path: str, key: str, value: object) -> ProfileOption:
    raw = read_mapping(errs, path, value, required=True)
    check_keys(errs, path, raw, OPTION_KEYS)
    if not OPTION_KEY_RE.match(key):
        errs.add(path, f"option key {key!r} is not valid", "lower-case letters, digits, '-' and '_'")
    choices = [read_choice(errs, f"{path}.choices.{k}", str(k), v, key)
               for k, v in read_mapping(errs, f"{path}.choices", raw.get("choices")).items()]
    if not choices:
        errs.add(f"{path}.choices", "is empty", "at least one choice: KubeSpawner starts the default one "
                 "when the user picks nothing")
    _check_single_default(errs, f"{path}.choices", [c.key for c in choices if c.default], "choices")
    unlisted = None
    if raw.get("unlisted_choice") is not None:
        unlisted = read_unlisted_choice(errs, f"{path}.unlisted_choice", raw.get("unlisted_choice"), key)
    dynamic = _read_dynamic_building(errs, f"{path}.dynamic_image_building", raw.get("dynamic_image_building"))
    if dynamic and key != IMAGE_OPTION_KEY:
        errs.add(f"{path}.dynamic_image_building.enabled", f"is set on option {key!r}",
                 f"it only on the option keyed {IMAGE_OPTION_KEY!r}: fancy-profiles shows the build form only there")
    if dynamic and not (unlisted and unlisted.enabled):
        errs.add(f"{path}.dynamic_image_building.enabled", "is true but unlisted_choice is not enabled",
                 "unlisted_choice.enabled: true on the same option: the built image is started as an unlisted choice")
    return ProfileOption(
        key=key,
        display_name=read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True),
        choices=choices,
        unlisted_choice=unlisted,
        dynamic_image_building=dynamic,
    )


def read_profile(errs: Errors, path: str, value: object) -> Profile:
    raw = read_mapping(errs, path, value, required=True)
    check_keys(errs, path, raw, PROFILE_KEYS)
    display_name = read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True)
    slug = read_pattern(errs, f"{path}.slug", raw.get("slug"), SLUG_RE,
                         "lower-case letters, digits and '-'", required=False) or slugify(display_name)
    options = [read_option(errs, f"{path}.options.{k}", str(k), v)
               for k, v in read_mapping(errs, f"{path}.options", raw.get("options")).items()]
    return Profile(
        display_name=display_name,
        slug=slug,
        description=read_str(errs, f"{path}.description", raw.get("description")),
        default=read_bool(errs, f"{path}.default", raw.get("default")),
        kubespawner_override=_read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override")),
        options=options,
    )


def read_profiles(errs: Errors, value: object) -> list[Profile]:
    profiles = [read_profile(errs, f"jupyterhub_profiles[{i}]", item)
                for i, item in enumerate(read_list(errs, "jupyterhub_profiles", value))]
    seen: dict[str, int] = {}
    for index, profile in enumerate(profiles):
        if profile.slug and profile.slug in seen:
            errs.add(f"jupyterhub_profiles[{index}].slug", f"{profile.slug!r} is also the slug of "
                     f"jupyterhub_profiles[{seen[profile.slug]}]", "a unique slug per profile")
        seen.setdefault(profile.slug, index)
    _check_single_default(errs, "jupyterhub_profiles", [p.slug for p in profiles if p.default], "profiles")
    return profiles
