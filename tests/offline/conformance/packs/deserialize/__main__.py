# Port of pulumi-policy 1.21.0 tests/integration/deserialize/policy-pack-python/__main__.py
# (integration_test.go:883-890); the program's file is __main__.py where upstream's is index.ts.
import pulumi
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def verify(r):
    if r.resource_type != "pulumi-python:dynamic:Resource":
        return
    assert r.props["secret"] == "a secret value"
    assert isinstance(r.props["fileAsset"], pulumi.FileAsset) and r.props["fileAsset"].path == "__main__.py"
    assert isinstance(r.props["stringAsset"], pulumi.StringAsset) and r.props["stringAsset"].text == "some text"
    assert isinstance(r.props["fileArchive"], pulumi.FileArchive) and r.props["fileArchive"].path == "."
    assert isinstance(r.props["assetArchive"], pulumi.AssetArchive)
    assets = r.props["assetArchive"].assets
    assert isinstance(assets["fileAsset"], pulumi.FileAsset) and assets["fileAsset"].path == "__main__.py"
    assert isinstance(assets["stringAsset"], pulumi.StringAsset) and assets["stringAsset"].text == "some text"
    assert isinstance(assets["fileArchive"], pulumi.FileArchive) and assets["fileArchive"].path == "."


PolicyPack(
    name="deserialize-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            enforcement_level=EnforcementLevel.REMEDIATE,
            name="resource-validation",
            description="Verifies deserialized properties during resource validation.",
            validate=lambda args, report_violation: verify(args),
            remediate=verify,
        ),
        StackValidationPolicy(
            name="stack-validation",
            description="Verifies deserialized properties during stack validation.",
            validate=lambda args, report_violation: [verify(r) for r in args.resources],
        ),
    ],
)
