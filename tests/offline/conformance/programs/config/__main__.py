# Port to Python of pulumi-policy 1.21.0 tests/integration/config/program/index.ts
# (TestConfig, integration_test.go:702-880).
from conformance_resources import RandomString

RandomString("str", length=10)
