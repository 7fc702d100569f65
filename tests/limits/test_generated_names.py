"""Every name the program produces, ours and the provider's autonames, is one AWS takes, for any service,
task and stack name the config accepts (issue 18, item 3).

The program runs under the test harness (Pulumi's mocks); each registration then goes through the
offline preview's emulation of the provider's Check (offline/provider_check.py: autonames
`<name>-<7 hex>`, the bridge's own length checks), as the engine would hand it to AWS. Every value at a
place the catalogue names (components/aws_limits.yaml) must pass its rule. A config the stack config
refuses must be refused before any resource is declared, with lines naming the key or the stack."""

from __future__ import annotations

import copy
import json
import re
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import naming
from components.aws_limits import catalogue
from offline import provider_check

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from program.harness import Recorder, Registration, run_program, stack_config

PROJECT = "ecs-platform"
NAMES_SETTINGS = settings(deadline=None, derandomize=True, database=None, print_blob=False, max_examples=10,
                          suppress_health_check=list(HealthCheck))
LOWER = string.ascii_lowercase
# Names the config takes (`[a-z][a-z0-9-]{0,19}`), drawn towards the edges: the longest, hyphens at the
# end and doubled, digits, and the prefixes AWS reserves somewhere (sg-, internal-, aws, ecs).
config_names = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,19}", fullmatch=True),
    st.builds(lambda head, tail: (head + tail)[:20], st.sampled_from(["sg", "sg-", "internal-", "aws", "ecs-", "xn--"]),
              st.text(LOWER + "0123456789-", max_size=19)),
    st.builds(lambda c, n: c * n, st.sampled_from(LOWER), st.integers(15, 20)),
    st.builds(lambda a, b: f"{a}--{b}-"[:20], st.text(LOWER, min_size=1, max_size=8), st.text(LOWER, max_size=8)),
)
# Stack names Pulumi takes: letters, digits, `_`, `.`, `-`, up to 100 characters.
stack_names = st.one_of(
    st.sampled_from(["dev", "prod", "staging"]),
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=40),
    st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=100),
)


def build_config(services: list[str], task: str, worker: bool) -> dict[str, Any]:
    """The dev stack with its two services renamed, a scheduled task, maybe a worker, and Service Connect."""
    config = copy.deepcopy(stack_config("dev"))
    dev = config[f"{PROJECT}:services"]
    web, api = dev["web"], dev["api"]
    api["service_connect"] = {}
    renamed = {services[0]: web, services[1]: api}
    if worker:
        renamed[services[2]] = {**copy.deepcopy(api), "kind": "worker", "worker_reason": "consumes the jobs queue",
                                "service_connect": {"publish": False}}
        for key in ("container_port", "routing", "health_check"):
            renamed[services[2]].pop(key, None)
    config[f"{PROJECT}:services"] = renamed
    config[f"{PROJECT}:scheduled_tasks"] = {task: {"image": "public.ecr.aws/a/b:1", "cpu": 256, "memory": 512,
                                                   "schedule_expression": "cron(0 3 * * ? *)"}}
    return config


def checked_inputs(reg: Registration, stack: str) -> dict[str, Any]:
    """The inputs AWS receives: the provider's Check applied (autonames), as the offline preview does."""
    urn = f"urn:pulumi:{stack}::{PROJECT}::{reg.type}::{reg.name}"
    if not reg.type.startswith("aws:"):
        return reg.inputs
    return provider_check.check(reg.type, reg.name, urn, reg.inputs)


def values_at(props: Any, path: str) -> list[tuple[str, Any]]:
    """Values at a catalogue property path (`a[].b`; JSON strings decoded)."""
    found: list[tuple[str, Any]] = [("", props)]
    for step in path.split("."):
        key, many = step.removesuffix("[]"), step.endswith("[]")
        nxt: list[tuple[str, Any]] = []
        for where, value in found:
            inner = value.get(key) if isinstance(value, dict) else None
            if inner is None:
                continue
            if many:
                inner = json.loads(inner) if isinstance(inner, str) else inner
                nxt += [(f"{where}.{key}[{i}]", item) for i, item in enumerate(inner)]
            else:
                nxt.append((f"{where}.{key}", inner))
        found = nxt
    return found


def name_problems(recorder: Recorder, stack: str) -> tuple[list[str], set[str]]:
    """Every catalogue violation among the names the program produced, and the set of those names."""
    rules = [(where, rule) for rule in catalogue().names.values() for where in rule.resources]
    problems, produced = [], set()
    for reg in recorder.resources:
        try:
            inputs = checked_inputs(reg, stack)
        except provider_check.CheckFailure as e:  # the bridge's own length checks
            problems.append(f"{reg.type} {reg.name}: {e}")
            continue
        for where, rule in rules:
            if where.type != reg.type:
                continue
            for path, value in values_at(inputs, where.property):
                produced.add(value)
                problems += [f"{reg.type} {reg.name}{path}: {rule.what} {value!r} {p}" for p in rule.problems(value)]
        tags = inputs.get("tags")
        if isinstance(tags, dict):
            problems += [f"{reg.name}: {p}" for p in catalogue().tags.problems(tags, catalogue().tags.restricts(reg.type))]
    return problems, produced


def predicted(services: list[str], task: str, worker: bool, cluster: str) -> list[str]:
    """What naming.py says the program names (what the config checks), autonamed parts as patterns."""
    names = naming.stack_names(cluster) + naming.scheduled_task_names(task, cluster)
    for i, service in enumerate(services[: 3 if worker else 2]):
        names += naming.service_names(service, cluster, web=i == 0)
    return [re.escape(value.removesuffix(naming.AUTONAME_SUFFIX)) + "-[0-9a-f]{7}" if value.endswith(naming.AUTONAME_SUFFIX)
            else re.escape(value) for _, value in names]


def run(services: list[str], task: str, worker: bool, stack: str) -> None:
    recorder = Recorder()
    try:
        run_program(build_config(services, task, worker), stack, recorder)
    except Exception as e:
        text = str(e)
        assert "invalid stack config" in text, text  # refused by the config, nothing else
        lines = text.splitlines()[1:]
        assert lines and all(line.strip().startswith((f"{PROJECT}:", "the stack's name")) for line in lines), text
        assert recorder.resources == [], "refused after declaring resources"
        return
    problems, produced = name_problems(recorder, stack)
    assert problems == [], "\n".join(problems)
    cluster = naming.cluster_name(PROJECT, stack)
    missing = [p for p in predicted(services, task, worker, cluster) if not any(re.fullmatch(p, v) for v in produced)]
    assert missing == [], f"naming.py lists names the program does not produce: {missing}"


@NAMES_SETTINGS
@given(names=st.lists(config_names, min_size=4, max_size=4, unique=True), worker=st.booleans(), stack=stack_names)
def test_every_name_the_program_produces_is_one_aws_takes(names: list[str], worker: bool, stack: str) -> None:
    run(names[:3], names[3], worker, stack)


@pytest.mark.parametrize(("services", "task", "stack"), [
    (["a" * 20, "b" * 20, "c" * 20], "d" * 20, "dev"),  # the longest names the config takes
    (["web-", "api--x", "w0"], "job-", "s" * 30),  # odd hyphens; the longest stack name for a 20-character task
    (["internal-web", "ecs-api", "awsworker"], "xn--job", "prod"),  # prefixes reserved elsewhere
])
def test_the_edges_produce_names_aws_takes(services: list[str], task: str, stack: str) -> None:
    run(services, task, True, stack)


@pytest.mark.parametrize(("services", "task", "stack", "refused"), [
    (["sg", "api", "w"], "job", "dev", "ecs-platform:services.sg: makes the EC2 security group name"),
    (["web", "sg-api", "w"], "job", "dev", "ecs-platform:services.sg-api: makes the EC2 security group name"),
    (["web", "api", "w"], "job-with-long-name", "s" * 40, "ecs-platform:scheduled_tasks.job-with-long-name: makes the "
     "EventBridge Scheduler schedule name"),
    (["web", "api", "w"], "job", "dev.eu", "the stack's name makes the ECS cluster name 'ecs-platform-dev.eu'"),
])
def test_names_aws_would_refuse_are_refused_by_the_config(services: list[str], task: str, stack: str,
                                                          refused: str) -> None:
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(build_config(services, task, True), stack, recorder)
    assert refused in str(caught.value)
    assert recorder.resources == []


def test_the_check_finds_a_name_aws_refuses() -> None:
    """The test's own oracle catches bad names: the catalogue's rules (a name set too long, an autoname
    EC2 refuses) and the provider's Check (autonames over the bridge's maximum)."""
    recorder = Recorder()
    recorder.resources += [
        Registration("aws:iam/role:Role", "r", {"name": "x" * 65}),
        Registration("aws:ec2/securityGroup:SecurityGroup", "sg-web", {}),
        Registration("aws:iam/role:Role", "y" * 57, {}),
        Registration("aws:lb/targetGroup:TargetGroup", "a" * 25 + "-tg", {}),
    ]
    problems, produced = name_problems(recorder, "dev")
    assert len(problems) == 4, problems
    assert "IAM role name 'xxx" in problems[0] and "is 65 characters long (at most 64)" in problems[0]
    assert "EC2 security group name 'sg-web-" in problems[1] and "begins with `sg-`" in problems[1]
    assert "longer than maximum length 64" in problems[2]
    assert "longer than maximum length 32" in problems[3]
    assert "x" * 65 in produced
