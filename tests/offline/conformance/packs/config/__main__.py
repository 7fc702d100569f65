# Port of pulumi-policy 1.21.0 tests/integration/config/policy-pack-python/__main__.py
# (integration_test.go:702-880): scenario N sets the policies' config schema, initial config and
# the config each policy must receive.
import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

MISSING = object()
# scenario: (foo's schema, required, expected config["foo"] or MISSING when nothing is checked)
SCENARIOS = {
    1: ({"type": "string"}, None, "bar"),
    2: ({"type": "string", "default": "bar"}, None, "bar"),
    3: ({"type": "number", "default": 42}, None, 42),
    4: ({"type": "string", "default": "bar"}, None, "overridden"),
    5: ({"type": "string", "default": "bar"}, ["foo"], "bar"),
    6: ({"type": "string"}, ["foo"], MISSING),
    7: ({"type": "string", "default": 1}, None, MISSING),
    8: ({"type": "string", "maxLength": 3, "default": "this value is too long"}, None, MISSING),
    9: ({"type": "string", "minLength": 50, "default": "this value is too short"}, None, MISSING),
    10: ({"type": "string", "enum": ["bar", "baz"], "default": "blah"}, None, MISSING),
    11: ({"const": "bar", "default": "blah"}, None, MISSING),
    12: ({"type": "string"}, None, MISSING),
    13: ({"enum": ["bar", "baz"]}, None, MISSING),
    14: ({"const": "bar"}, None, MISSING),
    16: ({"type": "number"}, None, 42),
    17: ({"type": "number"}, None, 3.14),
    18: ({"type": "integer"}, None, 42),
    19: ({"type": "boolean"}, None, True),
    20: ({"type": "boolean"}, None, False),
    21: ({"type": "object"}, None, {"bar": "baz"}),
    22: ({"type": "array"}, None, ["a", "b", "c"]),
    23: ({"type": "null"}, None, None),
    24: ({"type": "string"}, None, "hello world"),
    25: ({"type": "string"}, None, "overridden"),
}

scenario = pulumi.Config().require_int("scenario")
initial_config = None
if scenario == 15:
    schema = PolicyConfigSchema(properties={"foo": {"type": "string", "maxLength": 3}, "bar": {"type": "integer"}})
    expected = MISSING
elif scenario in SCENARIOS:
    foo, required, expected = SCENARIOS[scenario]
    schema = PolicyConfigSchema(properties={"foo": foo}, required=required)
    if scenario in (24, 25):
        initial_config = {name: {"foo": "hello world"} for name in ("resource-validation", "stack-validation")}
else:
    raise AssertionError(f"Unexpected test_scenario {scenario}.")


def verify(config):
    if expected is not MISSING:
        assert config["foo"] == expected, f"config foo is {config.get('foo')!r}, expected {expected!r}"


PolicyPack(
    name="config-policy",
    policies=[
        ResourceValidationPolicy(
            enforcement_level=EnforcementLevel.REMEDIATE,
            name="resource-validation",
            description="Verifies policy config during resource validation.",
            validate=lambda args, report_violation: verify(args.get_config()),
            remediate=lambda args: verify(args.get_config()),
            config_schema=schema,
        ),
        StackValidationPolicy(
            enforcement_level=EnforcementLevel.MANDATORY,
            name="stack-validation",
            description="Verifies policy config during stack validation.",
            validate=lambda args, report_violation: verify(args.get_config()),
            config_schema=schema,
        ),
    ],
    initial_config=initial_config,
)
