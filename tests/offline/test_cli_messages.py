"""Policy config errors worded as the CLI prints them (offline/cli_messages.py): gojsonschema's
messages with the "(root): " the CLI trims and its `validating policy config: <pack> <version>  `
prefix. The expected lines are pulumi-policy 1.21.0's `TestConfig` (tests/integration/
integration_test.go:702-880), which checks them against `pulumi up`'s output."""

from __future__ import annotations

from typing import Any

import pytest

from offline.policy_config import PolicyError, reconcile_config

PREAMBLE = "validating policy config: config-policy 0.0.1  "  # integration_test.go:708


def _errors(schema: dict[str, Any], given: dict[str, Any] | None) -> list[str]:
    policies = [{"name": "resource-validation", "level": "advisory", "schema": schema}]
    config = {"resource-validation": {"level": None, "properties": given}} if given is not None else {}
    with pytest.raises(PolicyError) as caught:
        reconcile_config(policies, {}, config, "config-policy", "0.0.1", closed=False)
    return str(caught.value).splitlines()


@pytest.mark.parametrize(
    "schema,given,want",
    [
        # scenario 6 (:740): a required property not set
        ({"properties": {"foo": {"type": "string"}}, "required": ["foo"]}, None, ["foo is required"]),
        # scenario 7 (:744): a default of the wrong type
        ({"properties": {"foo": {"type": "string", "default": 1}}}, None,
         ["foo: Invalid type. Expected: string, given: integer"]),
        # scenarios 8, 9 (:748, :752): string lengths
        ({"properties": {"foo": {"type": "string", "maxLength": 3, "default": "this is too long"}}}, None,
         ["foo: String length must be less than or equal to 3"]),
        ({"properties": {"foo": {"type": "string", "minLength": 50, "default": "this is too short"}}}, None,
         ["foo: String length must be greater than or equal to 50"]),
        # scenarios 10, 13 (:756, :775): enum
        ({"properties": {"foo": {"type": "string", "enum": ["bar", "baz"]}}}, {"foo": "blah"},
         ['foo: foo must be one of the following: "bar", "baz"']),
        # scenarios 11, 14 (:760, :782): const
        ({"properties": {"foo": {"type": "string", "const": "bar"}}}, {"foo": "blah"}, ['foo: foo does not match: "bar"']),
        # scenario 12 (:764): an integer where a string is expected
        ({"properties": {"foo": {"type": "string"}}}, {"foo": 1}, ["foo: Invalid type. Expected: string, given: integer"]),
        # scenario 15 (:789): several errors, each on its own line
        ({"properties": {"foo": {"type": "string", "maxLength": 3}, "bar": {"type": "integer"}}},
         {"foo": "this is too long", "bar": 3.14},
         ["bar: Invalid type. Expected: integer, given: number", "foo: String length must be less than or equal to 3"]),
    ],
)
def test_config_errors_are_worded_as_the_cli_words_them(
    schema: dict[str, Any], given: dict[str, Any] | None, want: list[str]
) -> None:
    assert _errors(schema, given) == [PREAMBLE + "resource-validation: " + w for w in want]


def test_nested_and_numeric_errors_use_gojsonschema_fields() -> None:
    schema = {
        "properties": {
            "limits": {
                "type": "object",
                "properties": {"max": {"type": "number", "minimum": 1}},
                "required": ["min"],
            }
        }
    }
    assert _errors(schema, {"limits": {"max": 0}}) == [
        PREAMBLE + "resource-validation: limits.max: Must be greater than or equal to 1",
        PREAMBLE + "resource-validation: limits: min is required",
    ]


def test_a_close_enum_value_is_suggested_after_the_cli_wording() -> None:
    schema = {"properties": {"foo": {"type": "string", "enum": ["bar", "baz"]}}}
    assert _errors(schema, {"foo": "barr"}) == [
        PREAMBLE + "resource-validation: foo: foo must be one of the following: \"bar\", \"baz\" (did you mean 'bar'?)"
    ]
