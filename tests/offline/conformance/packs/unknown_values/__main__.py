# Port of pulumi-policy 1.21.0 tests/integration/unknown_values/policy-pack-python/__main__.py
# (integration_test.go:489-506).
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def verify(r):
    if r.resource_type == "random:index/randomPet:RandomPet":
        print(r.props["prefix"])  # unknown in a preview: the SDK reports "can't run policy"


PolicyPack(
    name="unknown-values-policy",
    policies=[
        ResourceValidationPolicy(
            enforcement_level=EnforcementLevel.REMEDIATE,
            name="unknown-values-resource-validation",
            description="Accessing unknown values during preview results in a violation.",
            validate=lambda args, report_violation: verify(args),
            remediate=verify,
        ),
        StackValidationPolicy(
            enforcement_level=EnforcementLevel.MANDATORY,
            name="unknown-values-stack-validation",
            description="Accessing unknown values during preview results in a violation.",
            validate=lambda args, report_violation: [verify(r) for r in args.resources],
        ),
    ],
)
