# Port of pulumi-policy 1.21.0 tests/integration/enforcementlevel/policy-pack-python/__main__.py
# (integration_test.go:547-699): scenario N sets the pack's and the policies' levels.
from pulumi import Config
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

LEVELS = [EnforcementLevel.ADVISORY, EnforcementLevel.DISABLED, EnforcementLevel.MANDATORY, None]
SCENARIOS = [(None, None)] + [(pack, policy) for pack in LEVELS for policy in LEVELS]

scenario = Config().require_int("scenario")
if scenario >= len(SCENARIOS):
    raise AssertionError(f"Unexpected test_scenario {scenario}.")
pack, policy = SCENARIOS[scenario]
name = f"enforcementlevel-{pack.value if pack else 'none'}{f'-{policy.value}' if policy else ''}-test-policy"
# A disabled policy must never run.
never_runs = (pack == EnforcementLevel.DISABLED and policy in (EnforcementLevel.DISABLED, None)) or (
    policy == EnforcementLevel.DISABLED
)


def validate(kind):
    def check(args, report_violation):
        if never_runs:
            raise AssertionError(f"validate-{kind} should never be called.")
        report_violation(f"validate-{kind}-violation-message")
    return check


PolicyPack(
    name=name,
    enforcement_level=pack,
    policies=[
        ResourceValidationPolicy(name="validate-resource", description="Always reports a resource violation.",
                                 enforcement_level=policy, validate=validate("resource")),
        StackValidationPolicy(name="validate-stack", description="Always reports a stack violation.",
                              enforcement_level=policy, validate=validate("stack")),
    ],
)
