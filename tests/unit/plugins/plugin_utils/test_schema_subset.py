"""Unit tests (ansible-test units): the JSON schema subset the release rules check values with."""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.release_rules import schema_problems


def test_schema_subset() -> None:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"a": {"type": ["integer", "null"]}, "b": {"type": "array", "items": {"enum": ["x", "y"]}}},
              "patternProperties": {"^p-": {"type": "boolean"}}}
    assert list(schema_problems({"a": None, "b": ["x"], "p-1": True}, schema)) == []
    found = {path: problem for path, problem, _ in schema_problems({"a": True, "b": ["z"], "p-1": 1, "c": 0}, schema)}
    assert found == {("a",): "is a boolean", ("b", 0): "is not one of the values the chart accepts",
                     ("p-1",): "is a integer", ("c",): "is not a key the chart accepts"}


def test_no_value_is_shown() -> None:
    secret = "s3cr3t-value"
    schema = {"type": "object", "properties": {"token": {"type": "integer"}, "mode": {"enum": ["a"]}}}
    problems = list(schema_problems({"token": secret, "mode": secret}, schema))
    assert len(problems) == 2
    assert all(secret not in " ".join(map(str, problem)) for problem in problems)
