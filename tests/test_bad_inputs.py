"""Malformed hub definitions (tests/bad_inputs/catalog.yml) are rejected before anything changes.

One fixture runs playbooks/hub.yml over every bad hub at once (peeling off the hubs each
run rejects, see bad_inputs_support), with -vvv so the same output feeds the leak scan.
Each catalog entry is then checked against its hub's failure message; entries with an
``xfail`` reason are inputs that are not caught (cleanly) today.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_inputs_support import (
    SENTINEL,
    CatalogRun,
    Entry,
    check_entry,
    deploy_play_ran,
    entry_namespaces,
    helm_revisions,
    leak_scan,
    load_catalog,
    namespaces,
    run_catalog,
)

ENTRIES = load_catalog()


@dataclass
class Outcome:
    run: CatalogRun
    workdir: Path
    revisions_before: dict[tuple[str, str], int]
    revisions_after: dict[tuple[str, str], int]
    namespaces_before: set[str]
    namespaces_after: set[str]


@pytest.fixture(scope="module")
def outcome(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    workdir = tmp_path_factory.mktemp("bad-inputs")
    revisions_before, namespaces_before = helm_revisions(), namespaces()
    run = run_catalog(ENTRIES, workdir, verbose=True)
    return Outcome(run, workdir, revisions_before, helm_revisions(), namespaces_before, namespaces())


def test_catalog_is_large_and_unique() -> None:
    ids = [entry.id for entry in ENTRIES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids), "catalog ids must be unique"
    assert all(entry.expect for entry in ENTRIES), "every entry needs expected message fragments"


def _param(entry: Entry) -> object:
    marks = [pytest.mark.xfail(reason=entry.xfail, strict=False)] if entry.xfail else []
    return pytest.param(entry, id=entry.id, marks=marks)


@pytest.mark.parametrize("entry", [_param(entry) for entry in ENTRIES])
def test_bad_input_is_rejected_with_a_clear_message(entry: Entry, outcome: Outcome) -> None:
    problem = check_entry(entry, outcome.run)
    assert problem == "", problem


def test_no_release_revision_changed(outcome: Outcome) -> None:
    # Only the namespaces a run over the bad hubs could deploy to (each bad hub's names, the
    # sentinel's): other people's deploys (benchmarks, other tests) run on the same cluster at
    # the same time and change their own releases.
    watched = {SENTINEL}.union(*(entry_namespaces(entry) for entry in ENTRIES))
    changed = {key: (outcome.revisions_before.get(key), rev) for key, rev in outcome.revisions_after.items()
               if key[0] in watched and outcome.revisions_before.get(key) != rev}
    assert changed == {}, f"release revisions changed during the bad-input runs: {changed}"


def test_no_namespace_created_for_a_bad_hub(outcome: Outcome) -> None:
    created = outcome.namespaces_after - outcome.namespaces_before
    bad = set().union(*(entry_namespaces(entry) for entry in ENTRIES))
    assert created & bad == set(), f"namespaces created for bad hubs: {sorted(created & bad)}"


def test_deploy_play_never_ran(outcome: Outcome) -> None:
    assert not any(deploy_play_ran(output) for output in outcome.run.outputs)


def test_no_secret_leaks(outcome: Outcome) -> None:
    leaks = leak_scan(outcome.run, outcome.workdir)
    assert leaks == [], f"{len(leaks)} secret leak(s): demo secret values found in {leaks}"
