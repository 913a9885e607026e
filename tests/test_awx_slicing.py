"""AWX job slicing never splits a cluster's canaries from its production hubs: a run of
playbooks/hub.yml that is one slice of a sliced AWX job stops before anything changes, naming the
variables that told it and what to do (filter hub_sliced_job_refusal, the first task of the
validate play); an unsliced job, a job of another workflow, a run outside AWX and a check-mode
slice go on.

AWX hands a slice no slice number or count: a slice is a job launched by a workflow job named like
its job template (awx_job_launch_type: workflow, awx_workflow_job_name = awx_job_template_name),
as AWX's sliced job templates make them. The playbook runs pass exactly those extra variables.
"""

from __future__ import annotations

import re

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_waves import sliced_job_refusal
from support import LOCAL_INVENTORY, run_playbook

TEMPLATE = "Roll out hubs"
SLICE = {"awx_job_launch_type": "workflow", "awx_workflow_job_name": TEMPLATE, "awx_job_template_name": TEMPLATE,
         "awx_job_id": 4242, "awx_workflow_job_id": 4240}
REFUSAL_TASK = "Refuse to deploy from one slice of a sliced AWX job"
NEXT_TASK = "Compare every selected hub with the state its last rollout recorded"


def test_a_slice_is_refused_naming_the_variables_and_what_to_do() -> None:
    message = sliced_job_refusal(SLICE)
    for part in ("awx_job_launch_type: workflow", "awx_workflow_job_name = awx_job_template_name = 'Roll out hubs'",
                 "nothing was changed", "Job Slicing", "to 1", "one job template per cluster or wave with a limit",
                 "rename the workflow template"):
        assert part in message


@pytest.mark.parametrize("variables", [
    {},
    {**SLICE, "awx_job_launch_type": "manual"},
    {**SLICE, "awx_workflow_job_name": "Fleet rollout: staging, then production"},
    {**SLICE, "awx_workflow_job_name": ""},
    {"tower_job_launch_type": "workflow"},
])
def test_what_is_no_slice(variables: dict[str, object]) -> None:
    assert sliced_job_refusal(variables) == ""


def test_a_slice_in_check_mode_goes_on() -> None:
    assert sliced_job_refusal(SLICE, check_mode=True) == ""


def test_the_tower_names_where_the_awx_ones_are_not_set() -> None:
    tower = {key.replace("awx_", "tower_"): value for key, value in SLICE.items()}
    assert "tower_job_launch_type: workflow" in sliced_job_refusal(tower)


def run_hub_playbook(*args: str) -> tuple[int, str]:
    """playbooks/hub.yml on the demo inventory with an upgrade batch no hub is in: the comparison
    after the slice check leaves every hub out, so a run that goes on deploys nothing either."""
    run = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/hub.yml", "-e", "hub_upgrade_run_batch=ibh-slicing-none",
                       *args, timeout=600)
    return run.rc, run.output


def extra_vars(variables: dict[str, object]) -> list[str]:
    return [arg for key, value in variables.items() for arg in ("-e", f"{key}='{value}'")]


def test_a_sliced_job_stops_before_anything() -> None:
    rc, output = run_hub_playbook(*extra_vars(SLICE))
    assert rc != 0, output[-3000:]
    assert "this run is one slice of a sliced AWX job (awx_job_launch_type: workflow" in output
    assert f"Set Job Slicing of the job template '{TEMPLATE}' to 1" in output
    assert f"TASK [{REFUSAL_TASK}]" in output
    assert NEXT_TASK not in output, "a task after the refusal ran"
    assert not re.search(r"changed=[1-9]", output)


@pytest.mark.parametrize("args", [
    [],
    extra_vars({**SLICE, "awx_job_launch_type": "manual"}),
    extra_vars({**SLICE, "awx_workflow_job_name": "Fleet rollout"}),
    [*extra_vars(SLICE), "--check"],
], ids=["outside AWX", "unsliced AWX job", "job of another workflow", "slice in check mode"])
def test_other_runs_go_on(args: list[str]) -> None:
    rc, output = run_hub_playbook(*args)
    assert rc == 0, output[-3000:]
    assert "this run is one slice" not in output
    assert NEXT_TASK in output
