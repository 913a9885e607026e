"""The checks of a hub's rendering before anything changes: its charts and the final values of its
releases. One implementation for the ``hub_preflight`` action (one hub, the validate play of
``playbooks/hub.yml``) and the ``hub_validate`` action (every hub, ``playbooks/validate.yml``).

Each function returns every problem it finds (messages naming the hub, the variable or the file
and the key path, never a value), so a caller can report them all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import ChartResolveError, resolve_chart
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import (
    Decrypter,
    RenderError,
    Rendering,
    decrypt_secrets_file,
    final_values,
    render_companions,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import missing_secret_keys
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge, plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import rollout_written_keys

# Resolves one release's chart: where it is (None for a chart directory); raises ChartResolveError.
ChartResolver = Callable[[Release], "Path | None"]


def chart_problems(model: HubModel, resolve: ChartResolver) -> tuple[dict[str, str], list[str]]:
    """Where each release's chart is (an upstream one pulled into the chart cache by ``resolve``),
    the companion releases' by their variable (``hub_companion_releases[<i>]``), and a message for
    each chart version that cannot be fetched."""
    hub, found, problems = model.hub.name, {}, []
    releases = [(key, release, f"{RELEASE_PREFIXES[key]}_chart_version",
                 f"a version that {RELEASE_PREFIXES[key]}_chart_repo/_chart_ref has")
                for key, release in model.releases.items()]
    releases += [(c.variable, c.release, f"{c.variable}.version", f"a version that {c.variable}.chart has")
                 for c in model.companions]
    for key, release, variable, expected in releases:
        try:
            cached = resolve(release)
        except ChartResolveError as error:
            where = release.chart_repo_url or release.chart_ref
            problems.append(f"hub {hub!r}: {variable}: chart {release.chart} {release.chart_version} cannot be "
                            f"fetched from {where}: {error}; expected {expected}")
            continue
        found[key] = str(cached or release.chart_ref)
    return found, problems


def companion_problems(model: HubModel, *, base_dir: str, decrypt_file: Decrypter | None) -> list[str]:
    """Every problem of the companion releases' final values (``hub_render.render_companions``),
    their sops-encrypted values files decrypted in memory by ``decrypt_file``."""
    try:
        render_companions(model, base_dir=base_dir, decrypt=True, decrypt_file=decrypt_file)
    except RenderError as error:
        return [str(e) for e in error.details.get("errors") or [str(error)]]  # type: ignore[union-attr]
    return []


def helm_resolver(helm: str = "helm") -> ChartResolver:
    """``resolve_chart`` with the given helm binary."""
    return lambda release: resolve_chart(release, helm=helm)


def values_problems(rendering: Rendering, *, secrets_file: str, extra_values: object, tokens: object,
                    decrypt_file: Decrypter | None, secrets_readable: bool = True) -> list[str]:
    """Every problem of the final values of the hub's releases: toolkit values, values files and
    the secret values file (``secrets_file``, when it exists; decrypted in memory by
    ``decrypt_file``) with ``extra_values`` (the secrets role's ``secrets_extra_values``) on top,
    against the release rules and the charts' schemas; and each secret a person must add (the
    OAuth client secret) that the secret values file lacks.

    ``secrets_readable: false`` (the file cannot be decrypted here): the values are checked
    without the file's content, and what it lacks is not checked.
    """
    hub = rendering.model.hub.name
    secrets: dict[str, Any] = {}
    source = "the secrets role's secrets_extra_values"
    if secrets_file and Path(secrets_file).is_file() and secrets_readable:
        try:
            secrets = decrypt_secrets_file(hub, secrets_file, decrypt_file=decrypt_file)
        except RenderError as error:
            return [str(error)]
        source = f"the secret values file {secrets_file}"
    extra = plain(extra_values or {})
    if extra:
        if not isinstance(extra, Mapping):
            return [f"hub {hub!r}: secrets_extra_values: is not a mapping; expected chart sections"]
        secrets = deep_merge(secrets, dict(extra))
    problems: list[str] = []
    try:
        final_values(rendering, plain(secrets), source)  # type: ignore[arg-type]
    except RenderError as error:
        problems += [str(e) for e in error.details.get("errors") or [str(error)]]  # type: ignore[union-attr]
    if not secrets_readable:
        return problems
    needed = set(rendering.result()["required_secret_keys"]) - rollout_written_keys(tokens)
    missing = missing_secret_keys(secrets, sorted(needed))
    if missing:
        problems.append(f"hub {hub!r}: the secret values file {secrets_file} lacks {', '.join(missing)}; expected it "
                        f"there before the first rollout (scripts/hub-secrets set {hub} <key>, or "
                        "secrets_extra_values); nothing was changed")
    return problems
