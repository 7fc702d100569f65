# Port to Python of pulumi-policy 1.21.0 tests/integration/stack_tags/program/index.ts
# (TestStackTags, integration_test.go:937-945).
from conformance_resources import Resource

Resource("hello", {})
