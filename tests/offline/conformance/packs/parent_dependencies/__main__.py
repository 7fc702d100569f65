# Port of pulumi-policy 1.21.0 tests/integration/parent_dependencies/policy-pack-python/__main__.py
# (integration_test.go:531-537); dynamic resources are Python's (pulumi-python:dynamic:Resource).
import json

from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy


def validate(resources, r):
    stack = next(x for x in resources if x.resource_type == "pulumi:pulumi:Stack")
    t = r.resource_type
    if t in ("pulumi:pulumi:Stack", "pulumi:providers:pulumi-python", "pulumi:providers:random"):
        assert r.parent is None
        assert json.dumps(r.dependencies) == json.dumps([])
        assert json.dumps(r.property_dependencies) == json.dumps({})
    elif t == "pulumi-python:dynamic:Resource":
        if r.name == "child":
            assert r.parent is next(x for x in resources if x.name == "parent")
            assert r.dependencies == [] and r.property_dependencies == {}
        elif r.name == "b":
            assert r.parent is stack
            a = next(x for x in resources if x.name == "a")
            assert len(r.dependencies) == 1 and r.dependencies[0] is a
            assert r.property_dependencies == {}
    elif t == "random:index/randomString:RandomString":
        assert r.parent is stack
        assert r.dependencies == [] and r.property_dependencies == {}
    elif t == "random:index/randomPet:RandomPet":
        assert r.parent is stack
        str_ = next(x for x in resources if x.name == "str")
        assert len(r.dependencies) == 1 and r.dependencies[0] is str_
        prefix = r.property_dependencies["prefix"]
        assert len(prefix) == 1 and prefix[0] is str_
    else:
        raise AssertionError(f"Unexpected resource of type: '{t}'.")


PolicyPack(
    name="parent-dependencies-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name="validate-stack",
            description="Validates resource options during `validateStack`.",
            validate=lambda args, report_violation: [validate(args.resources, r) for r in args.resources],
        ),
    ],
)
