"""Update mode's made-up values have AWS's shapes: ids with the real prefixes, ARNs with the
service, region, account and resource form of the type, ECR URLs, image digests, load balancer DNS
names; custom timeouts parse as Go durations; the SDK reflection invokes rely on fails loudly."""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

import pulumi._types
import pulumi_aws  # noqa: F401  (registers the resource modules `fakes` reads the classes from)
import pulumi_docker  # noqa: F401
import pytest

from offline import arns, durations, fakes, sdk_patches
from offline.sdk_patches import SdkShapeError

REGION = "eu-west-1"
ACCOUNT = arns.ACCOUNT_ID
URN = "urn:pulumi:dev::app::"
ECS, ECR, LOGS = (f"arn:aws:{service}:{REGION}:{ACCOUNT}" for service in ("ecs", "ecr", "logs"))


def _state(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    urn = f"{URN}{type_}::{name}"
    return fakes.fake_id(type_, name, urn, inputs, REGION), fakes.computed_outputs(type_, name, urn, inputs, REGION)


@pytest.mark.parametrize(
    ("type_", "prefix"),
    [
        ("aws:ec2/vpc:Vpc", "vpc"),
        ("aws:ec2/subnet:Subnet", "subnet"),
        ("aws:ec2/securityGroup:SecurityGroup", "sg"),
        ("aws:ec2/instance:Instance", "i"),
        ("aws:ec2/internetGateway:InternetGateway", "igw"),
        ("aws:ec2/natGateway:NatGateway", "nat"),
        ("aws:ec2/eip:Eip", "eipalloc"),
        ("aws:ec2/routeTable:RouteTable", "rtb"),
        ("aws:ec2/launchTemplate:LaunchTemplate", "lt"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "sgr"),
    ],
)
def test_ec2_ids_have_the_real_prefixes_and_arns(type_: str, prefix: str) -> None:
    rid, outputs = _state(type_, "x", {})
    assert re.fullmatch(rf"{prefix}-0[0-9a-f]{{16}}", rid)
    if "arn" in outputs:
        assert re.fullmatch(rf"arn:aws:ec2:{REGION}:{ACCOUNT}:[a-z-]+/{prefix}-0[0-9a-f]{{16}}", outputs["arn"])


@pytest.mark.parametrize(
    ("type_", "inputs", "arn", "id_"),
    [
        ("aws:ecs/cluster:Cluster", {"name": "platform"}, f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/platform", "arn"),
        (
            "aws:ecs/service:Service",
            {"name": "web", "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/platform"},
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/platform/web",
            "arn",
        ),
        ("aws:ecs/taskDefinition:TaskDefinition", {"family": "web"}, f"{ECS}:task-definition/web:1", "web"),
        ("aws:iam/role:Role", {"name": "task"}, f"arn:aws:iam::{ACCOUNT}:role/task", "task"),
        ("aws:iam/role:Role", {"name": "task", "path": "/ecs/"}, f"arn:aws:iam::{ACCOUNT}:role/ecs/task", "task"),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/ecs/web"}, f"{LOGS}:log-group:/ecs/web", "/ecs/web"),
        ("aws:ecr/repository:Repository", {"name": "team/app"}, f"{ECR}:repository/team/app", "team/app"),
        ("aws:ssm/parameter:Parameter", {"name": "/app/key"}, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/key", "/app/key"),
        ("aws:s3/bucketV2:BucketV2", {"bucket": "logs-1"}, "arn:aws:s3:::logs-1", "logs-1"),
    ],
)
def test_arns_and_ids_have_the_form_of_the_type(type_: str, inputs: dict, arn: str, id_: str) -> None:
    rid, outputs = _state(type_, "x", inputs)
    assert outputs["arn"] == arn
    assert rid == (arn if id_ == "arn" else id_)


def test_load_balancer_and_target_group_outputs() -> None:
    rid, lb = _state("aws:lb/loadBalancer:LoadBalancer", "web", {"name": "web-1234567", "loadBalancerType": "application"})
    assert re.fullmatch(rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web-1234567/[0-9a-f]{{16}}", rid)
    assert lb["arn"] == rid and lb["arnSuffix"] == rid.split(":loadbalancer/", 1)[1]
    assert re.fullmatch(rf"web-1234567-\d+\.{REGION}\.elb\.amazonaws\.com", lb["dnsName"])
    assert re.fullmatch(r"Z[A-Z0-9]{13}", lb["zoneId"])
    _, nlb = _state("aws:lb/loadBalancer:LoadBalancer", "tcp", {"name": "tcp", "loadBalancerType": "network"})
    assert re.fullmatch(rf"tcp-[0-9a-f]{{16}}\.elb\.{REGION}\.amazonaws\.com", nlb["dnsName"])
    assert ":loadbalancer/net/tcp/" in nlb["arn"]
    _, tg = _state("aws:alb/targetGroup:TargetGroup", "tg", {"name": "tg-1"})
    assert re.fullmatch(rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/tg-1/[0-9a-f]{{16}}", tg["arn"])
    assert tg["arnSuffix"] == tg["arn"].split(":", 5)[5]


def test_ecr_repository_urls_and_image_digests() -> None:
    _, repo = _state("aws:ecr/repository:Repository", "app", {"name": "app-1234567"})
    assert repo["repositoryUrl"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app-1234567"
    assert repo["registryId"] == ACCOUNT
    _, image = _state("docker:index/image:Image", "img", {"imageName": f"{repo['repositoryUrl']}:2.0.1"})
    assert re.fullmatch(rf"{re.escape(repo['repositoryUrl'])}@sha256:[0-9a-f]{{64}}", image["repoDigest"])
    assert image["baseImageName"] == f"{repo['repositoryUrl']}:2.0.1"
    assert image["registryServer"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def test_partitions_follow_the_region() -> None:
    assert arns.arn("ecs", "cn-north-1", "cluster/a") == f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:cluster/a"
    assert arns.arn("iam", "us-gov-west-1", "role/a", regional=False) == f"arn:aws-us-gov:iam::{ACCOUNT}:role/a"
    assert arns.ecr_registry("cn-north-1") == f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"


def test_fakes_are_deterministic() -> None:
    assert _state("aws:ecs/service:Service", "web", {"name": "web"}) == _state("aws:ecs/service:Service", "web", {"name": "web"})


# ---- custom timeouts (Go durations) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("75m", 4500.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("90s", 90.0),
        ("0", 0.0),
        ("500ms", 0.5),
        ("-2m", -120.0),
        ("2h0m0s", 7200.0),
        ("1h1m1.5s", 3661.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert durations.seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["75", "75 minutes", "m", "", "1d", "1h 30m", "1.2.3s"])
def test_not_go_durations(text: str) -> None:
    with pytest.raises(durations.DurationError, match=rf"^unable to parse customTimeout Value {re.escape(text)}$"):
        durations.seconds(text)


# ---- SDK reflection for invoke results (offline/sdk_patches.py) ------------------------------------------------

SDK = f"pulumi {importlib.metadata.version('pulumi')}:"


def test_invoke_result_types_are_found_by_token() -> None:
    from pulumi_aws.ecr.get_repository import GetRepositoryResult

    assert sdk_patches.invoke_result_class("aws:ecr/getRepository:getRepository") is GetRepositoryResult
    assert sdk_patches.invoke_result_class("aws:ecr/getNothing:getNothing") is None
    assert sdk_patches.invoke_result_class("nopackage:index:getThing") is None
    fields = sdk_patches.output_type_fields(GetRepositoryResult)
    assert fields is not None and fields["repositoryUrl"] == (str, True)
    assert sdk_patches.python_name("getIPRanges") == "get_ip_ranges"


def test_output_type_fields_fails_loudly_when_the_sdk_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_aws.ecr.get_repository import GetRepositoryResult

    monkeypatch.delattr(pulumi._types, "_raw_return_hints")
    with pytest.raises(SdkShapeError) as caught:
        sdk_patches.output_type_fields(GetRepositoryResult)
    assert str(caught.value).startswith(f"{SDK} pulumi._types._raw_return_hints does not exist")

    def _raw_return_hints(cls: type, extra: int) -> dict:
        return {}

    monkeypatch.setattr(pulumi._types, "_raw_return_hints", _raw_return_hints, raising=False)
    with pytest.raises(SdkShapeError, match=r"_raw_return_hints is not a cached function"):
        sdk_patches.output_type_fields(GetRepositoryResult)
