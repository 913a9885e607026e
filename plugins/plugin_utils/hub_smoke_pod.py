"""The smoke check's look at a user pod: each check a step with its own name, each problem saying
what was expected and what the pod has."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_cases import SmokeCase, quantity

# KubeSpawner's name of the user container.
NOTEBOOK_CONTAINER = "notebook"
POD_STEPS = ("pod image", "pod node pool selector", "pod image pull secret", "pod home volume", "pod resource limits")


def pod_problems(pod: Mapping[str, Any], case: SmokeCase,
                 claim_phase: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """(step, problem) for every way the pod differs from the case; ``claim_phase`` tells a claim's
    phase (None when it does not exist)."""
    spec = pod.get("spec") or {}
    container = next((c for c in spec.get("containers") or [] if c.get("name") == NOTEBOOK_CONTAINER), None)
    if container is None:
        return [("pod image", f"the pod has no container {NOTEBOOK_CONTAINER!r}")]
    problems: list[tuple[str, str]] = []
    if container.get("image") != case.image:
        problems.append(("pod image", f"expected image {case.image}, the pod runs {container.get('image')}"))
    selector = spec.get("nodeSelector") or {}
    if selector != case.node_selector:
        problems.append(("pod node pool selector", f"expected nodeSelector {case.node_selector}, the pod has {selector}"))
    secrets = sorted(str(s.get("name")) for s in spec.get("imagePullSecrets") or [])
    if secrets != case.pull_secrets:
        problems.append(("pod image pull secret",
                         f"expected imagePullSecrets {case.pull_secrets or 'none'}, the pod has {secrets or 'none'}"))
    problems += [("pod home volume", p) for p in _home_problems(spec, container, case, claim_phase)]
    problems += [("pod resource limits", p) for p in _limit_problems(container, case)]
    return problems


def _home_problems(spec: Mapping[str, Any], container: Mapping[str, Any], case: SmokeCase,
                   claim_phase: Callable[[str], str | None]) -> list[str]:
    home = case.home
    mount = next((m for m in container.get("volumeMounts") or [] if m.get("mountPath") == home.mount_path), None)
    if home.kind == "none":
        return [f"expected no home volume, the pod mounts {mount.get('name')} at {home.mount_path}"] if mount else []
    if mount is None:
        return [f"expected a {home.kind} home volume at {home.mount_path}, the pod mounts nothing there"]
    volume = next((v for v in spec.get("volumes") or [] if v.get("name") == mount.get("name")), {})
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if not claim:
        return [f"expected the home volume at {home.mount_path} to be a claim, it is {sorted(volume) or 'missing'}"]
    problems = []
    if home.claim and claim != home.claim:
        problems.append(f"expected claim {home.claim} at {home.mount_path}, the pod mounts claim {claim}")
    if home.sub_path and mount.get("subPath") != home.sub_path:
        problems.append(f"expected subPath {home.sub_path} of claim {claim}, the pod has {mount.get('subPath') or 'none'}")
    phase = claim_phase(claim)
    if phase != "Bound":
        problems.append(f"claim {claim} is {phase or 'missing'}, expected Bound")
    return problems


def _limit_problems(container: Mapping[str, Any], case: SmokeCase) -> list[str]:
    limits = (container.get("resources") or {}).get("limits") or {}
    problems = []
    for resource, expected in case.limits.items():
        try:
            found = quantity(limits.get(resource))
        except ValueError as error:
            problems.append(f"{resource} limit: {error}")
            continue
        if (expected is None) != (found is None) or (expected is not None and found is not None
                                                     and abs(expected - found) > max(1e-6, expected * 1e-6)):
            problems.append(f"expected {resource} limit {_shown(resource, expected)}, "
                            f"the pod has {limits.get(resource) or 'none'}")
    return problems


def _shown(resource: str, value: float | None) -> str:
    if value is None:
        return "none"
    return f"{int(value)} bytes" if resource == "memory" else f"{value:g}"
