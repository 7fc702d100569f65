"""Rules over EC2 launch templates and Auto Scaling groups (the ECS container instances)."""

from __future__ import annotations

from collections.abc import Iterator

from .resource_types import ASG, LAUNCH_TEMPLATE
from .rule import HIGH, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import as_list, get, to_bool, to_int

LT = (LAUNCH_TEMPLATE,)


def check_imdsv2(ctx: Ctx) -> Iterator[str]:
    md = ctx.get("metadataOptions")
    if not ctx.known(md):
        return
    tokens, endpoint = get(md, "httpTokens"), get(md, "httpEndpoint")
    if ctx.known(tokens) and tokens != "required":
        yield (
            f"metadataOptions.httpTokens is {tokens!r}: set it 'required' (IMDSv2; hop limit 2 for "
            "bridge-mode containers)"
        )
    hops = get(md, "httpPutResponseHopLimit")
    limit = to_int(ctx.cfg.get("maxHopLimit")) or 2
    if ctx.known(hops) and hops is not None and (to_int(hops) or 0) > limit:
        yield (
            f"httpPutResponseHopLimit {hops} exceeds {limit}: lower it so containers cannot relay "
            "metadata calls"
        )
    if endpoint == "disabled":
        yield (
            "httpEndpoint is 'disabled': the ECS agent needs instance metadata; enable it with "
            "httpTokens required"
        )


def check_lt_public_ip(ctx: Ctx) -> Iterator[str]:
    for i, ni in enumerate(as_list(ctx.get("networkInterfaces"))):
        v = get(ni, "associatePublicIpAddress")
        if ctx.known(v) and to_bool(v):
            yield f'networkInterfaces[{i}].associatePublicIpAddress is true: set it "false"'


def check_lt_ebs(ctx: Ctx) -> Iterator[str]:
    for i, bdm in enumerate(as_list(ctx.get("blockDeviceMappings"))):
        ebs = get(bdm, "ebs")
        if not isinstance(ebs, dict):
            continue
        v = ebs.get("encrypted")
        if ctx.known(v) and to_bool(v) is not True and not ebs.get("snapshotId"):
            dev = get(bdm, "deviceName", default=f"#{i}")
            yield f'EBS volume {dev} is not encrypted: set blockDeviceMappings[{i}].ebs.encrypted "true"'


def check_lt_profile(ctx: Ctx) -> Iterator[str]:
    prof = ctx.get("iamInstanceProfile")
    if not ctx.known(prof):
        return
    arn, name = get(prof, "arn"), get(prof, "name")
    if not (ctx.known(arn) and ctx.known(name)):
        return
    if not (arn or name):
        yield "no iamInstanceProfile: attach an instance profile with AmazonEC2ContainerServiceforEC2Role"


def check_asg_launch_template(ctx: Ctx) -> Iterator[str]:
    if ctx.get("launchConfiguration"):
        yield "the ASG uses a launch configuration: use a launch template (launchTemplate {id, version})"
        return
    lt, mip = ctx.get("launchTemplate"), ctx.get("mixedInstancesPolicy")
    if ctx.known(lt) and ctx.known(mip) and not lt and not mip:
        yield "the ASG has no launchTemplate: set launchTemplate {id, version} or a mixedInstancesPolicy"


def check_asg_subnets(ctx: Ctx) -> Iterator[str]:
    subnets, azs = ctx.get("vpcZoneIdentifiers"), ctx.get("availabilityZones")
    if not (ctx.known(subnets) and ctx.known(azs)):
        return
    need = to_int(ctx.cfg.get("minSubnets")) or 2
    n = max(len(as_list(subnets)), len(as_list(azs)))
    if n < need:
        yield (
            f"the ASG spans {n} subnet(s): list at least {need} subnets in different AZs in "
            "vpcZoneIdentifiers"
        )


RULES = [
    Rule(
        name="ec2-launch-template-imdsv2",
        description="Launch templates require IMDSv2 with a small hop limit.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LT,
        check=check_imdsv2,
        remediation_steps=(
            "Set metadataOptions {httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: "
            "1 (2 with bridge mode)}."
        ),
        config={
            "maxHopLimit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": 2,
                "description": "Largest accepted httpPutResponseHopLimit.",
            }
        },
        controls=Controls(fsbp=("EC2.8", "AutoScaling.3"), checkov=("CKV_AWS_79",)),
    ),
    Rule(
        name="ec2-launch-template-no-public-ip",
        description="Launch templates do not assign public IPs.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LT,
        check=check_lt_public_ip,
        remediation_steps='Set networkInterfaces[].associatePublicIpAddress "false"; use private subnets.',
        controls=Controls(fsbp=("EC2.25",)),
    ),
    Rule(
        name="ec2-launch-template-ebs-encrypted",
        description="Launch template EBS volumes are encrypted.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LT,
        check=check_lt_ebs,
        remediation_steps='Set blockDeviceMappings[].ebs.encrypted "true" (and a kmsKeyId if required).',
        controls=Controls(),
    ),
    Rule(
        name="ec2-launch-template-instance-profile",
        description="Launch templates attach an IAM instance profile.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=LT,
        check=check_lt_profile,
        remediation_steps="Set iamInstanceProfile {arn} for the ECS container instance role.",
    ),
    Rule(
        name="asg-launch-template",
        description="Auto Scaling groups use a launch template.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(ASG,),
        check=check_asg_launch_template,
        remediation_steps="Set launchTemplate {id, version: '$Latest'} or a mixedInstancesPolicy.",
        controls=Controls(fsbp=("AutoScaling.9",)),
    ),
    Rule(
        name="asg-multi-az",
        description="Auto Scaling groups span at least two subnets.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(ASG,),
        check=check_asg_subnets,
        remediation_steps="List private subnets of two or more AZs in vpcZoneIdentifiers.",
        config={
            "minSubnets": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Minimum number of subnets/AZs.",
            }
        },
        controls=Controls(fsbp=("AutoScaling.2",)),
    ),
]
