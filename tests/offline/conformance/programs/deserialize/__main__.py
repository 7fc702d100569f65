# Port to Python of pulumi-policy 1.21.0 tests/integration/deserialize/program/index.ts
# (TestDeserialize, integration_test.go:883-890).
import pulumi
from conformance_resources import Resource

Resource("hello", {
    "secret": pulumi.Output.secret("a secret value"),
    "fileAsset": pulumi.FileAsset("__main__.py"),
    "stringAsset": pulumi.StringAsset("some text"),
    "fileArchive": pulumi.FileArchive("."),
    "assetArchive": pulumi.AssetArchive({
        "fileAsset": pulumi.FileAsset("__main__.py"),
        "stringAsset": pulumi.StringAsset("some text"),
        "fileArchive": pulumi.FileArchive("."),
    }),
})
