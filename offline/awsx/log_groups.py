"""awsx's default log group of a task definition (awsx/cloudwatch/logGroup.ts `defaultLogGroup`).

Owns: the `aws.cloudwatch.LogGroup` awsx creates (named after the task definition, no retention
unless `logGroup.args` sets one; the provider autonames it), or the existing group it is pointed
at, and the group's name and region the containers' `awslogs` options name.
"""

from __future__ import annotations

from .construct import Args, Construct, ConstructError, Node, Out, lift


def _region(ctx: Construct) -> str:
    return str(ctx.invoke("aws:index/getRegion:getRegion", {}).get("name", ctx.monitor.region))


def _from_arn(arn: str) -> dict[str, str]:
    """`idFromArn`: name and region of a log group ARN."""
    parts = arn.split(":")
    if parts[0] != "arn":
        raise ConstructError('Invalid ARN: must start with "arn:"')
    if len(parts) not in (6, 7):
        raise ConstructError('Invalid ARN: must be between 6 or 7 parts"')
    service, region = parts[2], parts[3]
    if len(parts) == 7:
        kind, resource = parts[5], parts[6]
    else:
        kind, _, resource = parts[5].partition("/")
    if service != "logs" or kind != "log-group":
        raise ConstructError("Invalid log group ARN")
    return {"logGroupName": resource, "logGroupRegion": region}


def default_log_group(ctx: Construct, name: str, given: Args | None, parent: Node) -> tuple[Out | None, Node | None]:
    """(log group id {logGroupName, logGroupRegion}, created group): (None, None) when skipped."""
    given = given or Args({})
    if given.value("skip"):
        return None, None
    if "existing" in given and "args" in given:
        raise ConstructError("Can't define log group args if specifying an existing log group name")
    existing = given.sub("existing")
    if existing is not None:
        if "arn" in existing:
            return lift(_from_arn, existing.get("arn")), None
        if "name" not in existing:
            raise ConstructError("One of an existing log group name or ARN must be specified")
        region = existing.get("region") or Out(_region(ctx))
        return lift(lambda n, r: {"logGroupName": n, "logGroupRegion": r}, existing.get("name"), region), None
    log_args = given.sub("args") or Args({})
    group = ctx.register("aws:cloudwatch/logGroup:LogGroup", name, log_args.items(), parent)
    region = _region(ctx)
    ctx.invoke("aws:index/getCallerIdentity:getCallerIdentity", {})  # awsx builds the group's ARN with it
    return lift(lambda n: {"logGroupName": n, "logGroupRegion": region}, group.out("name")), group
