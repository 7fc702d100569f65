"""Hypothesis strategies for stack configs (issue 6, item 1), shared by test_config_fuzz.py and
bench/fuzz_config.py.

`valid_config()` builds configs that follow the documented rules (most of them parse);
`invalid_config()` breaks them: wrong types, missing keys, out-of-range numbers, unknown keys,
unicode names, nested garbage, huge maps, mutations of the real dev/prod configs. Whether a case
is valid is decided by `parse_stack_config` itself (the oracle); the checks below only demand that
every case ends in a StackConfig or in a ConfigError naming `ecs-platform:` key paths.
Raw configs are mappings of top-level keys without the namespace, JSON values only (what
`load_stack_config` can see).
"""

from __future__ import annotations

import contextlib
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from components.config import (  # noqa: E402
    NAMESPACE,
    ConfigError,
    StackConfig,
    TagsConfig,
    default_tags_config,
    parse_stack_config,
)

RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
X86 = ["t3.small", "t3.medium", "t3a.small", "m5.large", "m6i.large", "m7i.large", "c6i.xlarge"]
ARM = ["t4g.small", "m6g.large", "m7g.large", "c7g.xlarge"]
IMAGES = [
    "public.ecr.aws/nginx/nginx:1.27-alpine",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
    "public.ecr.aws/docker/library/python:3.12-slim",
    "registry.example.com:5000/team/app@sha256:" + "a" * 64,
]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/8f2a6c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
TLS = ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06"]
SECRETS = [
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api/database-url-AbCdEf",
    "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/signing-key",
]
REASON_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/=+-@"
FARGATE_SIZE = [(256, 512), (256, 1024), (512, 1024), (512, 2048), (1024, 2048), (2048, 4096)]


def real_configs() -> dict[str, dict[str, Any]]:
    """The namespace keys of Pulumi.dev.yaml / Pulumi.prod.yaml (without the namespace)."""
    found = {}
    for stack in ("dev", "prod"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        found[stack] = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    return found


REAL = real_configs()
LOWER = "abcdefghijklmnopqrstuvwxyz"
names = st.builds(str.__add__, st.sampled_from(LOWER), st.text(LOWER + "0123456789-", max_size=19))
env_names = st.builds(str.__add__, st.sampled_from(LOWER.upper() + "_"), st.text(LOWER.upper() + "0123456789_", max_size=15))


# ---- valid-by-construction pieces -------------------------------------------------------------

@st.composite
def container(draw: Any, main: bool, fargate: bool = False, exec_cmd: bool = False) -> dict[str, Any]:
    memory = draw(st.integers(128 if main else 6, 1024))
    c: dict[str, Any] = {
        "image": draw(st.sampled_from(IMAGES) | st.builds(
            "public.ecr.aws/{}/{}:{}".format, names, names, st.text("0123456789.", min_size=1, max_size=6).map("1".__add__))),
        "cpu": draw(st.integers(128 if main else 1, 512)),
        "memory": memory,
    }
    if draw(st.booleans()):
        c["memory_reservation"] = draw(st.integers(6, memory))
    if draw(st.booleans()):
        c["environment"] = draw(st.dictionaries(env_names, st.text(max_size=20), max_size=3))
    if draw(st.integers(0, 3)) == 0:
        c["secrets"] = draw(st.dictionaries(env_names, st.sampled_from(SECRETS), max_size=2))
    if draw(st.booleans()):
        c["user"] = draw(st.sampled_from(["1000:1000", "65534", "nobody", "101:101"]))
    if draw(st.integers(0, 3)) == 0:
        c["command"] = draw(st.lists(st.text(max_size=10), max_size=3))
    if not main:
        c["essential"] = draw(st.booleans())
    if exec_cmd:
        c["read_only_root_filesystem"] = False
    elif not fargate and draw(st.booleans()):
        c["writable_paths"] = draw(st.lists(st.sampled_from(["/tmp", "/var/run", "/var/cache/nginx"]),
                                            max_size=3, unique=True))
    return c


def _sidecars(draw: Any, taken: set[str], fargate: bool, exec_cmd: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sname in draw(st.lists(names.filter(lambda n: n not in taken), max_size=2, unique=True)):
        out[sname] = draw(container(main=False, fargate=fargate, exec_cmd=exec_cmd))
    return out


def _fargate(draw: Any, task: dict[str, Any]) -> None:
    cpu, memory = draw(st.sampled_from(FARGATE_SIZE))
    task["cpu"], task["memory"] = 128, 128
    task.pop("memory_reservation", None)
    task["task_cpu"], task["task_memory"] = cpu, memory
    task["capacity_provider_strategy"] = draw(st.sampled_from([
        [{"capacity_provider": "FARGATE"}],
        [{"capacity_provider": "FARGATE", "base": 1, "weight": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 3}],
    ]))


@st.composite
def service(draw: Any, name: str, priority: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["web", "web", "web", "worker"]))
    fargate = draw(st.integers(0, 4)) == 0
    exec_cmd = not fargate and draw(st.integers(0, 5)) == 0
    svc = draw(container(main=True, fargate=fargate, exec_cmd=exec_cmd))
    svc["sidecars"] = _sidecars(draw, {name}, fargate, exec_cmd)
    if fargate:
        _fargate(draw, svc)
        for side in svc["sidecars"].values():
            side.update(cpu=1, memory=6)
            side.pop("memory_reservation", None)
    elif draw(st.integers(0, 3)) == 0:
        svc["network_mode"] = "bridge"
    if exec_cmd:
        svc["enable_execute_command"] = True
    desired = draw(st.integers(0, 6))
    svc["desired_count"] = desired
    if draw(st.booleans()):
        svc["autoscaling"] = {"min_capacity": draw(st.integers(0, desired)), "max_capacity": max(1, desired)
                              + draw(st.integers(0, 20))}
        if draw(st.booleans()):
            svc["autoscaling"]["memory_target"] = draw(st.floats(1, 100))
    if kind == "worker":
        svc["kind"] = "worker"
        svc["worker_reason"] = draw(st.text(REASON_CHARS, min_size=10, max_size=60))
        return svc
    svc["container_port"] = draw(st.integers(1024, 9999))
    svc["routing"] = {"priority": priority, "path_patterns": draw(st.lists(
        st.text(LOWER + "*", max_size=8).map("/".__add__), min_size=1, max_size=3))}
    if draw(st.booleans()):
        interval = draw(st.integers(5, 300))
        svc["health_check"] = {
            "path": draw(st.text(LOWER + "/", max_size=20).map("/".__add__)),
            "interval": interval,
            "timeout": draw(st.integers(2, min(120, interval - 1))),
            "healthy_threshold": draw(st.integers(2, 10)),
            "unhealthy_threshold": draw(st.integers(2, 10)),
            "matcher": draw(st.sampled_from(["200", "200-399", "200,204"])),
        }
    if draw(st.integers(0, 3)) == 0:
        svc["stickiness"] = draw(st.sampled_from([{"type": "lb_cookie"}, {"type": "app_cookie", "cookie_name": "SID"}]))
    if svc.get("autoscaling") and draw(st.booleans()):
        svc["autoscaling"]["requests_per_target"] = draw(st.integers(1, 5000))
    if draw(st.booleans()):
        svc["deployment"] = {"minimum_healthy_percent": draw(st.integers(0, 100)),
                             "maximum_percent": draw(st.integers(100, 200)),
                             "deregistration_delay": draw(st.integers(0, 3600))}
    return svc


@st.composite
def scheduled_task(draw: Any, name: str) -> dict[str, Any]:
    fargate = draw(st.integers(0, 3)) == 0
    task = draw(container(main=True, fargate=fargate))
    task["schedule_expression"] = draw(st.sampled_from(
        ["rate(5 minutes)", "rate(1 hour)", "cron(0 3 * * ? *)", "at(2026-12-01T03:00:00)"]))
    if draw(st.booleans()):
        task["schedule_timezone"] = draw(st.sampled_from(["UTC", "Europe/Dublin", "America/New_York"]))
    if draw(st.booleans()):
        task["task_count"] = draw(st.integers(1, 10))
    task["sidecars"] = _sidecars(draw, {name}, fargate, False)
    if fargate:
        _fargate(draw, task)
        for side in task["sidecars"].values():
            side.update(cpu=1, memory=6)
            side.pop("memory_reservation", None)
    return task


@st.composite
def cluster(draw: Any) -> dict[str, Any]:
    types = draw(st.sampled_from([X86, ARM]))
    chosen = draw(st.lists(st.sampled_from(types), min_size=1, max_size=3, unique=True))
    lo = draw(st.integers(0, 3))
    hi = lo + draw(st.integers(1, 8))
    cl: dict[str, Any] = {"instance_types": chosen, "min_size": lo, "max_size": hi,
                          "desired_capacity": draw(st.integers(lo, hi))}
    if draw(st.booleans()):
        cl["root_volume_size_gb"] = draw(st.integers(30, 200))
    if draw(st.booleans()):
        cl["container_insights"] = draw(st.sampled_from(["enabled", "enhanced"]))
    spot = draw(st.booleans())
    if spot:
        cl["on_demand_percentage_above_base"] = draw(st.integers(0, 99))
    if draw(st.booleans()):
        cl["instance_refresh"] = draw(st.sampled_from([{}, {"min_healthy_percentage": 90, "max_healthy_percentage": 150}]))
    if not spot and len(chosen) == 1 and draw(st.integers(0, 3)) == 0:
        cl["warm_pool"] = {"min_size": draw(st.integers(0, 3))}
    if draw(st.integers(0, 3)) == 0:
        cl["base"] = 2
        cl["additional_capacity_providers"] = {"spot": {
            "instance_types": draw(st.lists(st.sampled_from(types), min_size=1, max_size=3, unique=True)),
            "on_demand_percentage_above_base": 0, "weight": draw(st.integers(1, 5))}}
    if draw(st.booleans()):
        cl["force_delete"] = draw(st.booleans())
    return cl


@st.composite
def network(draw: Any) -> dict[str, Any]:
    if draw(st.integers(0, 4)) == 0:
        return {"vpc_id": "vpc-0123456789abcdef0",
                "public_subnet_ids": ["subnet-0aaa1111", "subnet-0aaa2222"],
                "private_subnet_ids": ["subnet-0bbb1111", "subnet-0bbb2222", "subnet-0bbb3333"]}
    return {"availability_zones": draw(st.integers(2, 6)),
            "nat_gateways": draw(st.sampled_from(["single", "one_per_az"])),
            "cidr_block": draw(st.sampled_from(["10.0.0.0/16", "172.16.0.0/20", "192.168.0.0/24"]))}


@st.composite
def load_balancer(draw: Any) -> dict[str, Any]:
    lb: dict[str, Any] = {"ingress_cidrs": draw(st.lists(
        st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24", "::/0"]), min_size=1, max_size=3, unique=True))}
    if draw(st.booleans()):
        lb["certificate_arn"] = CERT
        lb["ssl_policy"] = draw(st.sampled_from(TLS))
    if draw(st.booleans()):
        lb["internal"] = draw(st.booleans())
    if draw(st.booleans()):
        lb["idle_timeout"] = draw(st.integers(1, 4000))
    if draw(st.booleans()):
        lb["deletion_protection"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        lb["access_logs"] = draw(st.sampled_from([{}, {"prefix": "alb/logs", "expiration_days": 30}, {"prefix": None}]))
    return lb


@st.composite
def valid_config(draw: Any, max_services: int = 4) -> dict[str, Any]:
    """A config following every documented rule (parse_stack_config decides in the end)."""
    all_names = draw(st.lists(names, min_size=1, max_size=max_services + 2, unique=True))
    cut = draw(st.integers(1, min(len(all_names), max_services)))
    priorities = draw(st.lists(st.integers(1, 50000), min_size=cut, max_size=cut, unique=True))
    raw: dict[str, Any] = {"services": {n: draw(service(n, p)) for n, p in zip(all_names[:cut], priorities, strict=True)}}
    tasks = {n: draw(scheduled_task(n)) for n in all_names[cut:]}
    if tasks:
        raw["scheduled_tasks"] = tasks
    for key, strategy in (("network", network()), ("cluster", cluster()), ("load_balancer", load_balancer())):
        if draw(st.booleans()):
            raw[key] = draw(strategy)
    if draw(st.booleans()):
        raw["logs"] = {"retention_days": draw(st.sampled_from(RETENTION))}
    _room_for_awsvpc_tasks(raw)
    return raw


def _room_for_awsvpc_tasks(raw: dict[str, Any]) -> None:
    """Every awsvpc task on EC2 takes an ENI of an instance (the stack rule, components/config/eni.py):
    give the cluster's group enough instances for each task at its peak (autoscaling maximum, or
    desired count, times the deployment's maximum_percent), counting one task per instance (the
    smallest types here hold one)."""
    def on_ec2_awsvpc(task: dict[str, Any]) -> bool:
        strategy = task.get("capacity_provider_strategy") or []
        return task.get("network_mode", "awsvpc") == "awsvpc" and not any(
            i["capacity_provider"].startswith("FARGATE") for i in strategy)

    need = 0
    for svc in raw["services"].values():
        if on_ec2_awsvpc(svc):
            peak = max(svc.get("desired_count", 1), svc.get("autoscaling", {}).get("max_capacity", 0))
            need += -(-peak * svc.get("deployment", {}).get("maximum_percent", 200) // 100)
    need += sum(t.get("task_count", 1) for t in raw.get("scheduled_tasks", {}).values() if on_ec2_awsvpc(t))
    if need > raw.get("cluster", {}).get("max_size", 4):  # 4: the default group's max_size
        raw.setdefault("cluster", {})["max_size"] = need


# ---- breaking things ----------------------------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True)
                | st.text(max_size=30))
garbage = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
odd_names = st.text(min_size=0, max_size=40) | st.sampled_from(
    ["Web", "wéb", "服务", "a" * 21, "-web", "web_1", "", " ", "web\n", "😀", "ecs-platform:x", "ec2"])
odd_numbers = st.sampled_from([-1, 0, 2**31, 2**63, 10**30, -(10**30), 1.5, 1e308, float("inf"), True, "12"])


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into nested dicts/lists (dict keys, list indices)."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


def _at(value: Any, path: tuple) -> Any:
    for p in path:
        value = value[p]
    return value


@st.composite
def mutated(draw: Any, base: dict[str, Any]) -> dict[str, Any]:
    """One to three mutations of `base` at random paths."""
    raw = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(raw)))
        op = draw(st.sampled_from(["delete", "garbage", "number", "unknown_key", "rename", "type_swap", "odd_key"]))
        if not where:  # the root: add or drop a top-level key
            if op == "delete" and raw:
                raw.pop(draw(st.sampled_from(sorted(raw))))
            else:
                # a top-level key is never empty: Pulumi has no `ecs-platform:` key without a name
                raw[draw(odd_names.filter(bool) | st.sampled_from(["clustr", "service", "Logs"]))] = draw(garbage)
            continue
        parent, key = _at(raw, where[:-1]), where[-1]
        if op == "delete":
            del parent[key]
        elif op == "odd_key" and len(where) == 1:
            raw[draw(odd_names.filter(bool))] = raw.pop(key)
        elif op == "garbage":
            parent[key] = draw(garbage)
        elif op == "number":
            parent[key] = draw(odd_numbers)
        elif op == "type_swap":
            old = parent[key]
            parent[key] = (str(old) if not isinstance(old, str) else draw(st.sampled_from([[old], {"v": old}, 1, None])))
        elif isinstance(parent, dict) and op in ("unknown_key", "rename", "odd_key"):
            new = draw(odd_names) if op == "odd_key" else (key + draw(st.sampled_from(["x", "_", "s"])) if op == "rename"
                                                           else draw(st.sampled_from(["memroy", "extra", "Image"])))
            if op == "unknown_key":
                parent[new] = draw(garbage)
            else:
                parent[new] = parent.pop(key)
        else:
            parent[key] = draw(garbage)
    return raw


@st.composite
def huge_config(draw: Any) -> dict[str, Any]:
    """Huge maps: many services, or a huge environment."""
    base = copy.deepcopy(REAL["dev"])
    web = base["services"]["web"]
    if draw(st.booleans()):
        count = draw(st.integers(50, 400))
        base["services"] = {f"svc-{i}": {**copy.deepcopy(web), "routing": {"priority": i + 1, "path_patterns": [f"/{i}"]}}
                            for i in range(count)}
    else:
        web["environment"] = {f"VAR_{i}": "x" * draw(st.integers(0, 100)) for i in range(draw(st.integers(100, 3000)))}
    return draw(mutated(base)) if draw(st.booleans()) else base


def _named_keys(raw: Any) -> Any:
    """Pulumi has no `ecs-platform:` key without a name: drop an empty top-level key."""
    if isinstance(raw, dict) and "" in raw:
        raw = {k: v for k, v in raw.items() if k != ""}
    return raw


def invalid_config() -> st.SearchStrategy[Any]:
    """Broken configs (some turn out valid; parse_stack_config decides)."""
    return st.one_of(
        st.sampled_from(sorted(REAL)).flatmap(lambda s: mutated(REAL[s])),
        valid_config().flatmap(mutated),
        st.dictionaries(odd_names.filter(bool), garbage, max_size=5),
        st.fixed_dictionaries({"services": st.dictionaries(odd_names, garbage, min_size=1, max_size=4)}),
        garbage,
    ).map(_named_keys)


def any_config() -> st.SearchStrategy[Any]:
    return st.one_of(valid_config(), invalid_config(), huge_config())


# ---- the checks -------------------------------------------------------------------------------

def check_parse(raw: Any) -> tuple[bool, list[str]]:
    """(valid?, problems with the outcome). Valid: a StackConfig; invalid: a ConfigError whose every
    problem names a key path under a top-level key that exists (or is required), shown as `ecs-platform:<path>`."""
    try:
        parse_stack_config(raw)
    except ConfigError as error:
        return False, config_error_problems(raw, error)
    except Exception as error:
        return False, [f"{type(error).__name__} instead of ConfigError: {error!r}"[:500]]
    return True, []


def config_error_problems(raw: Any, error: ConfigError) -> list[str]:
    found: list[str] = []
    if not error.problems:
        found.append("ConfigError without problems")
    text = str(error)
    top = set(raw) if isinstance(raw, dict) else set()
    for path, message in error.problems:
        if not isinstance(path, str) or not isinstance(message, str) or not message:
            found.append(f"malformed problem {(path, message)!r}")
            continue
        if not path:
            if isinstance(raw, dict):
                found.append(f"problem without a key path: {message}")
            continue
        if f"{NAMESPACE}:{path}" not in text:
            found.append(f"{NAMESPACE}:{path} missing from the message")
        # keys may hold dots themselves: the path starts with some top-level key or a required one
        if not any(path == k or path.startswith(f"{k}.") for k in (*top, *StackConfig.model_fields)):
            found.append(f"path {path!r} starts with no key of the config")
    return found


def full_config(raw: dict[str, Any], region: str = "eu-west-1") -> dict[str, Any]:
    """Stack config keys as run_program takes them (fully qualified), with `aws:defaultTags`
    mirroring valid `tags` as the stack files do (the program refuses a stack where they differ)."""
    config = {"aws:region": region, **{f"{NAMESPACE}:{k}": v for k, v in raw.items()}}
    with contextlib.suppress(ValueError):  # absent or invalid tags: the program has nothing to mirror
        config["aws:defaultTags"] = default_tags_config(TagsConfig.model_validate(raw.get("tags")))
    return config


def program_view(raw: dict[str, Any]) -> dict[str, Any]:
    """What load_stack_config reads back from `raw` (values pass through the config as JSON text; a
    string that parses as JSON becomes that value)."""
    view = {}
    for key, value in raw.items():
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            view[key] = json.loads(text)
        except ValueError:
            view[key] = text
    return view


def check_program(raw: dict[str, Any]) -> tuple[bool, list[str]]:
    """Runs the program under mocks: a valid config builds (and registers an ECS service); an invalid
    one fails naming `ecs-platform:`, and nothing is registered or invoked before. (valid?, problems)"""
    from program.harness import Recorder, run_program

    valid, problems = check_parse(program_view(raw))
    if problems:
        return valid, problems
    recorder = Recorder()
    try:
        run_program(full_config(raw), "fuzz", recorder)
    except Exception as error:
        if valid:
            return valid, [f"valid config failed to build: {type(error).__name__}: {error}"[:800]]
        found = []
        if f"{NAMESPACE}:" not in str(error):
            found.append(f"error names no {NAMESPACE}: key: {type(error).__name__}: {error}"[:500])
        if recorder.resources or recorder.calls:
            found.append(f"registered before the config error: {[r.name for r in recorder.resources][:5]} "
                         f"calls {[c[0] for c in recorder.calls][:3]}")
        return valid, found
    if not valid:
        return valid, ["invalid config built without an error"]
    if not any(r.type == "aws:ecs/service:Service" for r in recorder.resources):
        return valid, ["valid config built no ECS service"]
    return valid, []
