# Port to Python of pulumi-policy 1.21.0 tests/integration/provider/program/index.ts
# (TestProvider, integration_test.go:540-544).
import pulumi
from conformance_resources import Provider, RandomString, RandomUuid, Resource

Resource("empty")
RandomUuid("uuid")
provider = Provider("my-provider")
RandomString("str", length=10, opts=pulumi.ResourceOptions(provider=provider))
