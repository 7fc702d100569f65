# Port of pulumi-policy 1.21.0 tests/integration/runtime_data/policy-pack-python/__main__.py
# (integration_test.go:509-516); dynamic resources are Python's (pulumi-python:dynamic:Resource).
import os

from pulumi import Config, get_project, get_stack
from pulumi.runtime import is_dry_run
from pulumi_aws import config as aws_config
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def verify_data(r):
    if r.resource_type != "pulumi-python:dynamic:Resource":
        return
    assert is_dry_run() == r.props["isDryRun"]
    assert get_project() == os.environ["PULUMI_TEST_PROJECT"] == r.props["getProject"]
    assert get_stack() == os.environ["PULUMI_TEST_STACK"] == r.props["getStack"]
    assert Config().require("aConfigValue") == "this value is a value"
    assert aws_config.region == "us-west-2"


PolicyPack(
    name="runtime-data-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="runtime-data-resource-validation",
            description="Verifies runtime data during resource validation.",
            validate=lambda args, report_violation: verify_data(args),
            remediate=verify_data,
        ),
        StackValidationPolicy(
            name="runtime-data-stack-validation",
            description="Verifies runtime data during stack validation.",
            validate=lambda args, report_violation: [verify_data(r) for r in args.resources],
        ),
    ],
)
