"""Runs the program under Pulumi's mocks and records what every resource receives.

The mocks answer the invokes the program makes (SSM AMI parameter, partition, caller identity)
and return plausible ids and ARNs, so that inputs built from other resources' outputs are real.
"""

from __future__ import annotations

import json
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.stack import run_pulumi_func, wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
AMI = "ami-0abcdef1234567890"


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]


@dataclass
class Recorder(pulumi.runtime.Mocks):
    region: str = "eu-west-1"
    resources: list[Registration] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(Registration(args.typ, args.name, dict(args.inputs)))
        outputs = dict(args.inputs)
        rid = f"{args.name}-id"
        service = args.typ.split(":")[1].split("/")[0]
        arn = f"arn:aws:{service}:{self.region}:{ACCOUNT}:{args.name}"
        outputs.setdefault("arn", arn)
        outputs.setdefault("name", args.inputs.get("name", args.name))
        if args.typ == "awsx:ec2:Vpc":  # a remote component: its outputs are not its inputs
            outputs = dict(vpcId="vpc-0123456789abcdef0",
                           publicSubnetIds=["subnet-0aaa1111", "subnet-0aaa2222"],
                           privateSubnetIds=["subnet-0bbb1111", "subnet-0bbb2222"])
            return rid, outputs
        if args.typ.startswith("aws:lb/"):
            outputs.update(arnSuffix=f"app/{args.name}/0123456789abcdef", dnsName=f"{args.name}.elb.amazonaws.com")
        if args.typ == "aws:s3/bucket:Bucket":  # autonamed by the provider
            outputs.setdefault("bucket", args.name)
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            outputs["latestVersion"] = 1
        return rid, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:ssm/getParameter:getParameter":
            return {"name": args.args["name"], "value": AMI, "type": "String", "id": args.args["name"]}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "AIDA", "id": ACCOUNT}, []
        return {}, []


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` of Pulumi.<stack>.yaml."""
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def run_program(config: dict[str, Any], stack: str = "test", recorder: Recorder | None = None) -> Recorder:
    """Runs __main__.py with `config` (full keys, structured values); returns what was recorded."""
    recorder = recorder or Recorder(region=str(config.get("aws:region", "eu-west-1")))
    pulumi.runtime.set_mocks(recorder, project="ecs-platform", stack=stack, preview=False)
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    for module in [m for m in sys.modules if m == "components" or m.startswith("components.")]:
        del sys.modules[module]
    sys.path.insert(0, str(ROOT))
    try:
        def program() -> None:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        _sync_await(run_pulumi_func(program))
        _sync_await(wait_for_rpcs())
    finally:
        sys.path.remove(str(ROOT))
    return recorder


def of_type(recorder: Recorder, type_: str) -> list[Registration]:
    return [r for r in recorder.resources if r.type == type_]


def one(recorder: Recorder, type_: str, name: str | None = None) -> Registration:
    found = [r for r in of_type(recorder, type_) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
    return found[0]
