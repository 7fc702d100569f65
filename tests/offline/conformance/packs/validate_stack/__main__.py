# Port of pulumi-policy 1.21.0 tests/integration/validate_stack/policy-pack-python/__main__.py
# (integration_test.go:417-486); dynamic resources are Python's (pulumi-python:dynamic:Resource).
from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

DYNAMIC = "pulumi-python:dynamic:Resource"


def no_state(value, with_urn=False):
    def check(args, report_violation):
        for r in args.resources:
            if r.resource_type == DYNAMIC and r.props.get("state") == value:
                if with_urn:
                    report_violation(f"'state' must not have the value {value}.", r.urn)
                else:
                    report_violation(f"'state' must not have the value {value}.")
    return check


def randomuuid_no_keepers(args, report_violation):
    for r in args.resources:
        if r.resource_type == "random:index/randomUuid:RandomUuid" and not r.props.get("keepers"):
            report_violation("RandomUuid must not have an empty 'keepers'.")


def no_randomstrings(args, report_violation):
    for r in args.resources:
        if r.resource_type == "random:index/randomString:RandomString":
            report_violation("RandomString resources are not allowed.")


def no_foo_bar(args, report_violation):
    for r in args.resources:
        if r.resource_type == DYNAMIC and r.props.get("foo") == "bar":
            report_violation("'foo' must not have the value 'bar'.")


PolicyPack(
    name="validate-stack-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(name="dynamic-no-state-with-value-1",
                              description="Prohibits setting state to 1 on dynamic resources.", validate=no_state(1)),
        StackValidationPolicy(name="dynamic-no-state-with-value-2",
                              description="Prohibits setting state to 2 on dynamic resources.", validate=no_state(2)),
        StackValidationPolicy(name="dynamic-no-state-with-value-3",
                              description="Prohibits setting state to 3 on dynamic resources.",
                              validate=no_state(3, with_urn=True)),
        StackValidationPolicy(name="randomuuid-no-keepers",
                              description="Prohibits creating a RandomUuid without any 'keepers'.",
                              validate=randomuuid_no_keepers),
        StackValidationPolicy(name="no-randomstrings", description="Prohibits RandomString resources.",
                              validate=no_randomstrings),
        # a stack policy at "remediate" is treated as mandatory
        StackValidationPolicy(name="dynamic-no-foo-with-value-bar",
                              description="Prohibits setting foo to 'bar' on dynamic resources.",
                              enforcement_level=EnforcementLevel.REMEDIATE, validate=no_foo_bar),
    ],
)
