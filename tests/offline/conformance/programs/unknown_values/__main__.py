# Port to Python of pulumi-policy 1.21.0 tests/integration/unknown_values/program/index.ts
# (TestUnknownValues, integration_test.go:489-506).
from conformance_resources import RandomPet, RandomString

s = RandomString("str", length=10)
RandomPet("pet", prefix=s.result)
