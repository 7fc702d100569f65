# Port of pulumi-policy 1.21.0 tests/integration/validate_resource/policy-pack-python/__main__.py
# (integration_test.go:311-385); dynamic resources are Python's (pulumi-python:dynamic:Resource).
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

DYNAMIC = "pulumi-python:dynamic:Resource"


def no_state(value, urn=None):
    def check(args, report_violation):
        if args.resource_type == DYNAMIC and args.props.get("state") == value:
            if urn:
                report_violation(f"'state' must not have the value {value}.", urn)
            else:
                report_violation(f"'state' must not have the value {value}.")
    return check


def randomuuid_no_keepers(args, report_violation):
    if args.resource_type == "random:index/randomUuid:RandomUuid" and not args.props.get("keepers"):
        report_violation("RandomUuid must not have an empty 'keepers'.")


def large_resource(args, report_violation):
    if args.resource_type == DYNAMIC and args.props.get("state") == 6:
        expected, result = 5 * 1024 * 1024, len(args.props["longString"])
        if result != expected:
            report_violation(f"'longString' had expected length of {expected}, got {result}")


def policy(name, description, validate):
    return ResourceValidationPolicy(name=name, description=description, validate=validate)


PolicyPack(
    name="validate-resource-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        policy("dynamic-no-state-with-value-1", "Prohibits setting state to 1 on dynamic resources.", no_state(1)),
        policy("dynamic-no-state-with-value-2", "Prohibits setting state to 2 on dynamic resources.", no_state(2)),
        policy("dynamic-no-state-with-value-3-or-4", "Prohibits setting state to 3 or 4 on dynamic resources.",
               [no_state(3), no_state(4)]),
        policy("randomuuid-no-keepers", "Prohibits creating a RandomUuid without any 'keepers'.", randomuuid_no_keepers),
        policy("dynamic-no-state-with-value-5", "Prohibits setting state to 5 on dynamic resources.",
               no_state(5, "some-urn")),
        policy("large-resource", "Ensures that large string properties are set properly.", large_resource),
    ],
)
