# Port to Python of pulumi-policy 1.21.0 tests/integration/parent_dependencies/program/index.ts
# (TestParentDependencies, integration_test.go:531-537).
import pulumi
from conformance_resources import RandomPet, RandomString, Resource

parent = Resource("parent")
Resource("child", opts=pulumi.ResourceOptions(parent=parent))
a = Resource("a")
Resource("b", opts=pulumi.ResourceOptions(depends_on=[a]))
s = RandomString("str", length=10)
RandomPet("pet", prefix=s.result)
