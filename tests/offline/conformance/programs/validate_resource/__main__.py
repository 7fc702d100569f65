# Port to Python of pulumi-policy 1.21.0 tests/integration/validate_resource/program/index.ts
# (TestValidateResource, integration_test.go:311-385).
import pulumi
from conformance_resources import RandomPassword, RandomUuid, Resource

scenario = pulumi.Config().require_int("scenario")
if scenario == 2:
    Resource("hello", {"hello": "world"})
elif scenario in (3, 4, 5, 6):
    Resource("abcd"[scenario - 3], {"state": scenario - 2})
elif scenario == 7:
    RandomUuid("r1")
elif scenario == 8:
    RandomUuid("r2", keepers={"foo": "bar"})
elif scenario == 9:
    Resource("e", {"state": 5})
elif scenario == 10:
    RandomPassword("pass", length=42)
elif scenario == 11:
    # A property over gRPC's default 4 MiB message size (pulumi/pulumi#4155).
    Resource("large-resource", {"state": 6, "longString": "a" * 5 * 1024 * 1024})
