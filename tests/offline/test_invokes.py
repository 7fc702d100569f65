"""Offline invoke answers: the built-in ones have AWS's shapes and every field the SDK's result
type declares (the SDK builds its result objects from them), IAM policy documents are computed as
terraform-provider-aws computes them, `--invokes` files are read and matched as documented."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from offline import invokes, sdk_patches
from offline.iam_policy_document import PolicyDocumentError, policy_document

REGION = "eu-west-1"
ACCOUNT = "123456789012"

# One call per built-in answer, with the arguments programs pass.
CALLS: dict[str, dict[str, Any]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": {},
    "aws:index/getRegion:getRegion": {},
    "aws:index/getPartition:getPartition": {},
    "aws:index/getAvailabilityZones:getAvailabilityZones": {"state": "available"},
    "aws:ssm/getParameter:getParameter": {"name": "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"},
    "aws:ec2/getAmi:getAmi": {
        "mostRecent": "true",
        "owners": ["amazon"],
        "filters": [{"name": "name", "values": ["amzn2-ami-ecs-hvm-*-x86_64-*"]}],
    },
    "aws:ec2/getVpc:getVpc": {"default": True},
    "aws:ec2/getVpcs:getVpcs": {},
    "aws:ec2/getSubnets:getSubnets": {"filters": [{"name": "vpc-id", "values": [invokes.default_vpc_id(REGION)]}]},
    "aws:ec2/getSubnet:getSubnet": {"id": invokes.default_subnets(REGION)[1]["id"]},
    "aws:ec2/getSecurityGroup:getSecurityGroup": {"name": "default", "vpcId": invokes.default_vpc_id(REGION)},
    "aws:ec2/getSecurityGroups:getSecurityGroups": {"filters": [{"name": "group-name", "values": ["web"]}]},
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": {},
    "aws:ecr/getRepository:getRepository": {"name": "team/app"},
    "aws:ecr/getImage:getImage": {"repositoryName": "team/app", "imageTag": "1.2.3"},
    "aws:iam/getPolicyDocument:getPolicyDocument": {"statements": [{"actions": ["s3:GetObject"], "resources": ["*"]}]},
    "aws:secretsmanager/getSecret:getSecret": {"name": "db/password"},
    "aws:secretsmanager/getSecretVersion:getSecretVersion": {"secretId": "db/password"},
    "aws:elb/getServiceAccount:getServiceAccount": {},
    "aws:route53/getZone:getZone": {"name": "example.com."},
    "aws:acm/getCertificate:getCertificate": {"domain": "app.example.com", "statuses": ["ISSUED"]},
    "aws:ecs/getCluster:getCluster": {"clusterName": "platform"},
}


def _fields(token: str) -> Any:
    cls = sdk_patches.invoke_result_class(token)
    assert cls is not None, token
    return cls, sdk_patches.output_type_fields(cls)


def _answer(token: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    args = CALLS[token] if args is None else args
    _, fields = _fields(token)
    return invokes.complete(
        token, fields, sdk_patches.output_type_fields, args, REGION, invokes.builtin_answer(token, args, REGION)
    )


def test_every_built_in_answer_is_in_the_table_of_calls() -> None:
    assert set(CALLS) == set(invokes.BUILTIN)


@pytest.mark.parametrize("token", sorted(CALLS))
def test_built_in_answers_build_the_sdk_result_with_every_required_field(token: str) -> None:
    """The SDK builds its result object from the answer (its constructor type-checks each field);
    no required field is None."""
    import pulumi._types

    cls, fields = _fields(token)
    answer = _answer(token)
    assert [name for name, (_, required) in fields.items() if required and answer.get(name) is None] == []
    py_names = {sdk_patches.python_name(name): value for name, value in answer.items() if name in fields}
    result = pulumi._types.output_type_from_dict(cls, py_names)
    assert isinstance(result, cls)


def test_answers_are_deterministic() -> None:
    assert [_answer(t) for t in sorted(CALLS)] == [_answer(t) for t in sorted(CALLS)]


def test_ecr_authorization_token_decodes_to_aws_and_the_password() -> None:
    token = _answer("aws:ecr/getAuthorizationToken:getAuthorizationToken", {"registryId": "210987654321"})
    assert base64.b64decode(token["authorizationToken"]).decode() == f"AWS:{token['password']}"
    assert token["userName"] == "AWS"
    assert token["proxyEndpoint"] == f"https://210987654321.dkr.ecr.{REGION}.amazonaws.com"


def test_ecr_repository_and_image_have_ecr_forms() -> None:
    repo = _answer("aws:ecr/getRepository:getRepository")
    assert repo["repositoryUrl"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/app"
    assert repo["arn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app"
    image = _answer("aws:ecr/getImage:getImage")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image["imageDigest"])
    assert image["imageUri"] == f"{repo['repositoryUrl']}@{image['imageDigest']}" and image["id"] == image["imageDigest"]


def test_ecs_optimized_ami_parameters_agree() -> None:
    base = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"
    recommended = json.loads(_answer("aws:ssm/getParameter:getParameter", {"name": base})["value"])
    image_id = _answer("aws:ssm/getParameter:getParameter", {"name": base + "/image_id"})["value"]
    assert recommended["image_id"] == image_id and re.fullmatch(r"ami-0[0-9a-f]{16}", image_id)
    assert recommended["image_name"].startswith("amzn2-ami-ecs-hvm-")
    assert _answer("aws:ssm/getParameter:getParameter", {"name": base + "/image_name"})["value"] == recommended["image_name"]


@pytest.mark.parametrize(
    ("region", "zone_ids", "partition", "suffix"),
    [
        ("us-east-1", ["use1-az1", "use1-az2", "use1-az3"], "aws", "amazonaws.com"),
        ("ap-southeast-2", ["apse2-az1", "apse2-az2", "apse2-az3"], "aws", "amazonaws.com"),
        ("cn-north-1", ["cnn1-az1", "cnn1-az2", "cnn1-az3"], "aws-cn", "amazonaws.com.cn"),
    ],
)
def test_region_dependent_answers(region: str, zone_ids: list[str], partition: str, suffix: str) -> None:
    zones = invokes.builtin_answer("aws:index/getAvailabilityZones:getAvailabilityZones", {}, region)
    assert zones is not None and zones["zoneIds"] == zone_ids
    assert zones["names"] == [f"{region}{c}" for c in "abc"]
    part = invokes.builtin_answer("aws:index/getPartition:getPartition", {}, region)
    reverse = ".".join(reversed(suffix.split(".")))
    assert part == {"id": partition, "partition": partition, "dnsSuffix": suffix, "reverseDnsPrefix": reverse}


def test_elb_service_account_is_the_regions_and_unknown_regions_fail() -> None:
    answer = invokes.builtin_answer("aws:elb/getServiceAccount:getServiceAccount", {}, "eu-west-1")
    assert answer == {"id": "156460612806", "arn": "arn:aws:iam::156460612806:root", "region": "eu-west-1"}
    with pytest.raises(invokes.InvokeAnswerError, match="unsupported AWS Region: mars-east-1"):
        invokes.builtin_answer("aws:elb/getServiceAccount:getServiceAccount", {"region": "mars-east-1"}, REGION)


def test_lookups_of_named_things_keep_the_names() -> None:
    zone = _answer("aws:route53/getZone:getZone")
    assert zone["name"] == "example.com" and re.fullmatch(r"Z[A-Z0-9]{20}", zone["zoneId"])
    cert = _answer("aws:acm/getCertificate:getCertificate")
    assert re.fullmatch(rf"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/[0-9a-f-]{{36}}", cert["arn"])
    secret = _answer("aws:secretsmanager/getSecret:getSecret")
    assert re.fullmatch(rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db/password-[A-Z0-9]{{6}}", secret["arn"])
    version = _answer("aws:secretsmanager/getSecretVersion:getSecretVersion")
    assert version["arn"] == secret["arn"] and version["versionStages"] == ["AWSCURRENT"]


def test_a_token_without_an_answer_gets_every_field_of_its_result_type() -> None:
    token = "aws:lb/getLoadBalancer:getLoadBalancer"
    assert invokes.builtin_answer(token, {}, REGION) is None
    _, fields = _fields(token)
    result = invokes.complete(token, fields, sdk_patches.output_type_fields, {"name": "web"}, REGION, None)
    assert set(result) == set(fields) and all(v is not None for v in result.values())
    assert result["name"] == "web"
    assert re.fullmatch(r"web-\d+\.eu-west-1\.elb\.amazonaws\.com", result["dnsName"])
    assert re.fullmatch(rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/[0-9a-f]{{16}}", result["arn"])
    assert isinstance(result["accessLogs"], dict) and "bucket" in result["accessLogs"]  # a nested output type


def test_arguments_echoed_back_take_the_fields_type() -> None:
    ami = _answer("aws:ec2/getAmi:getAmi")
    assert ami["mostRecent"] is True  # the program passed "true"
    assert ami["name"].startswith("amzn2-ami-ecs-hvm-") and ami["name"].endswith("-x86_64-ebs")


# ---- IAM policy documents (terraform-provider-aws `aws_iam_policy_document`) -------------------------------


def test_policy_document_as_the_provider_writes_it() -> None:
    result = policy_document(
        {
            "statements": [
                {
                    "sid": "Read",
                    "actions": ["s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:ListAllMyBuckets"],
                    "resources": ["arn:aws:s3:::*"],
                    "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root", "222222222222"]}],
                    "conditions": [{"test": "StringLike", "variable": "s3:prefix", "values": ["home/&{aws:username}/"]}],
                },
                {"effect": "Deny", "notActions": ["iam:*"], "principals": [{"type": "*", "identifiers": ["*"]}]},
            ]
        }
    )
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
                "Resource": "arn:aws:s3:::*",
                "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "222222222222"]},
                "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/"}},
            },
            {"Effect": "Deny", "NotAction": "iam:*", "Principal": "*"},
        ],
    }
    assert result["json"] == json.dumps(expected, indent=2)
    assert result["minifiedJson"] == json.dumps(expected, separators=(",", ":"))
    assert result["id"] == str(zlib.crc32(result["json"].encode()))


def test_policy_document_merges_sources_and_overrides_by_sid() -> None:
    statement = {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    source = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    override = json.dumps({"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    result = policy_document(
        {
            "sourcePolicyDocuments": [source],
            "statements": [{"sid": "B", "actions": ["ecs:*"], "resources": ["*"]}],
            "overridePolicyDocuments": [override],
            "policyId": "doc",
        }
    )
    doc = json.loads(result["json"])
    assert doc["Id"] == "doc"
    assert [(s["Sid"], s["Effect"]) for s in doc["Statement"]] == [("A", "Deny"), ("B", "Allow")]


def test_policy_document_escapes_like_go_and_refuses_what_the_provider_refuses() -> None:
    result = policy_document({"statements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::a<b>&c"]}]})
    assert "arn:aws:s3:::a\\u003cb\\u003e\\u0026c" in result["json"]
    with pytest.raises(PolicyDocumentError, match=r"duplicate Sid \(S\)"):
        policy_document({"statements": [{"sid": "S", "actions": ["a:b"]}, {"sid": "S", "actions": ["a:c"]}]})
    with pytest.raises(PolicyDocumentError, match="not supported in document version 2008-10-17"):
        policy_document({"version": "2008-10-17", "statements": [{"resources": ["arn:aws:s3:::&{aws:username}"]}]})


# ---- --invokes files ---------------------------------------------------------------------------------------


def test_invokes_file_rules_match_on_arguments_in_order(tmp_path: Path) -> None:
    path = tmp_path / "invokes.yaml"
    path.write_text(
        "aws:ecr/getRepository:getRepository:\n"
        "  - args: {name: app}\n"
        "    result: {repositoryUrl: 210987654321.dkr.ecr.eu-west-1.amazonaws.com/app}\n"
        "  - result: {repositoryUrl: 210987654321.dkr.ecr.eu-west-1.amazonaws.com/other}\n"
        "aws:index/getRegion:getRegion: {name: eu-central-1}\n"
    )
    rules = invokes.load_invokes_file(path)
    assert invokes.user_answer(rules, "aws:ecr/getRepository:getRepository", {"name": "app"}) == {
        "repositoryUrl": "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app"
    }
    assert invokes.user_answer(rules, "aws:ecr/getRepository:getRepository", {"name": "x"}) == {
        "repositoryUrl": "210987654321.dkr.ecr.eu-west-1.amazonaws.com/other"
    }
    assert invokes.user_answer(rules, "aws:index/getRegion:getRegion", {}) == {"name": "eu-central-1"}
    assert invokes.user_answer(rules, "aws:index/getPartition:getPartition", {}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("getRepository: {}\n", r"'getRepository' is not an invoke token"),
        ("aws:ecr/getRepository:getRepository: [1]\n", r"aws:ecr/getRepository:getRepository: expected a result"),
        ("aws:ecr/getRepository:getRepository: {args: [a], result: {}}\n", r"'args' must be a mapping"),
        ("- a\n", r"expected a mapping of invoke tokens"),
        ("a: [\n", r"not valid YAML or JSON"),
    ],
)
def test_invokes_file_errors_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "invokes.yaml"
    path.write_text(text)
    with pytest.raises(invokes.InvokesFileError, match=rf"--invokes {re.escape(str(path))}: .*{message}"):
        invokes.load_invokes_file(path)
