# Port of pulumi-policy 1.21.0 tests/integration/stack_tags/policy-pack-python/__main__.py
# (integration_test.go:937-945); also checks two of the tags Pulumi Cloud gives every stack.
from pulumi import get_project
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def verify_data(args):
    expected = {"foo": "bar", "hello": "world", "pulumi:project": get_project(), "pulumi:runtime": "python"}
    actual = args.stack_tags
    for k, v in expected.items():
        assert k in actual, f"Missing key: {k}"
        assert actual[k] == v, f"Value mismatch for {k}: expected {v}, got {actual[k]}"


PolicyPack(
    name="stack-tags-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="stack-tags-resource-validation",
            description="Verifies stack tags during resource validation.",
            validate=lambda args, report_violation: verify_data(args),
            remediate=lambda args, report=None: verify_data(args),
        ),
        StackValidationPolicy(
            name="stack-tags-stack-validation",
            description="Verifies stack tags during stack validation.",
            validate=lambda args, report_violation: verify_data(args),
        ),
    ],
)
