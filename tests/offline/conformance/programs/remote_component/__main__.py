# Port to Python of pulumi-policy 1.21.0 tests/integration/remote_component/program/index.ts
# (TestRemoteComponent, integration_test.go:893-906).
import pulumi
from conformance_resources import RandomString

rand = RandomString("random", length=10)
pulumi.ComponentResource(
    "testcomponent:index:Component", "component", {"bar": {"keepers": {"hello": "world", "hi": rand.id}}}, remote=True
)
