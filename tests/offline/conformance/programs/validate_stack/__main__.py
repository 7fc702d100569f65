# Port to Python of pulumi-policy 1.21.0 tests/integration/validate_stack/program/index.ts
# (TestValidateStack, integration_test.go:417-486).
import pulumi
from conformance_resources import RandomInteger, RandomPassword, RandomString, RandomUuid, Resource

scenario = pulumi.Config().get_int("scenario")
if scenario == 2:
    Resource("hello", {"hello": "world"})
elif scenario in (3, 4, 5):
    Resource("abc"[scenario - 3], {"state": scenario - 2})
elif scenario == 6:
    RandomUuid("r1")
elif scenario == 7:
    RandomString("r2", length=10)
elif scenario == 8:
    RandomPassword("r3", length=42)
elif scenario == 9:
    for name in ("x", "y", "z"):
        RandomInteger(name, min=0, max=10)
elif scenario == 10:
    Resource("d", {"foo": "bar"})
