# Port to Python of pulumi-policy 1.21.0 tests/integration/runtime_data/program/index.ts
# (TestRuntimeData, integration_test.go:509-516).
import pulumi
from conformance_resources import Resource

Resource("Hello", {
    "getProject": pulumi.get_project(),
    "getStack": pulumi.get_stack(),
    "isDryRun": pulumi.runtime.is_dry_run(),
})
