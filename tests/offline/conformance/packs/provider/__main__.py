# Port of pulumi-policy 1.21.0 tests/integration/provider/policy-pack-python/__main__.py
# (integration_test.go:540-544); the dynamic provider is Python's (pulumi:providers:pulumi-python).
from pulumi import get_project, get_stack
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def urn(type_, name):
    return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"


def validate(r):
    t = r.resource_type
    if t in ("pulumi:pulumi:Stack", "pulumi:providers:pulumi-python", "pulumi:providers:random"):
        assert r.provider is None
    elif t == "pulumi-python:dynamic:Resource":
        assert r.provider is not None
        assert r.provider.resource_type == "pulumi:providers:pulumi-python"
        assert r.provider.name == "default"
        assert r.provider.urn == urn("pulumi:providers:pulumi-python", "default")
        assert r.provider.props
        assert r.provider.props["provider:scenario"]  # a dynamic provider gets the whole stack config
    elif t == "random:index/randomUuid:RandomUuid":
        assert r.provider is not None
        assert r.provider.resource_type == "pulumi:providers:random"
        assert r.provider.name == "default_4_0_0"
        assert r.provider.urn == urn("pulumi:providers:random", "default_4_0_0")
        assert r.provider.props
        assert r.provider.props["version"] == "4.0.0"
    elif t == "random:index/randomString:RandomString":
        assert r.provider is not None
        assert r.provider.resource_type == "pulumi:providers:random"
        assert r.provider.name == "my-provider"
        assert r.provider.urn == urn("pulumi:providers:random", "my-provider")
        assert r.provider.props
        assert r.provider.props["version"] == "4.0.0"
    else:
        raise AssertionError(f"Unexpected resource of type: '{t}'.")


PolicyPack(
    name="resource-options-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="validate-resource",
            description="Validates resource options during `validateResource`.",
            validate=lambda args, report_violation: validate(args),
            remediate=validate,
        ),
        StackValidationPolicy(
            name="validate-stack",
            description="Validates resource options during `validateStack`.",
            validate=lambda args, report_violation: [validate(r) for r in args.resources],
        ),
    ],
)
