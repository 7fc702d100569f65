# Port to Python of pulumi-policy 1.21.0 tests/integration/validate_python_resource/program/__main__.py
# (TestValidatePythonResource, integration_test.go:388-414).
import pulumi
from conformance_resources import RandomUuid

scenario = pulumi.Config().require_int("scenario")
if scenario == 1:
    RandomUuid("r1")
elif scenario == 2:
    RandomUuid("r2", keepers={})
elif scenario == 3:
    RandomUuid("r3", keepers={"foo": "bar"})
