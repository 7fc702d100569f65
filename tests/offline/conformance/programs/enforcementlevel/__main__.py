# Port to Python of pulumi-policy 1.21.0 tests/integration/enforcementlevel/program/index.ts
# (TestEnforcementLevel, integration_test.go:547-699).
from conformance_resources import RandomString

RandomString("str", length=10)
