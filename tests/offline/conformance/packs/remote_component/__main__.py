# Port of pulumi-policy 1.21.0 tests/integration/remote_component/policy-pack-python/__main__.py
# (integration_test.go:893-906).
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def verify(args):
    if args.name != "innerRandom":
        return
    assert args.props["keepers"]["hello"] == "world"
    print(args.props["keepers"]["hi"])  # unknown in a preview: the SDK reports "can't run policy"


PolicyPack(
    name="remote-component-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="resource-validation",
            description="Verifies properties during resource validation.",
            validate=lambda args, report_violation: verify(args),
            remediate=verify,
        ),
    ],
)
