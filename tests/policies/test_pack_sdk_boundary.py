"""The pack leaves pulumi_policy as it found it, and its few uses of SDK internals (ecs_guardrails.sdk_internals,
and the test driver's servicer) fail loudly when the SDK's shape changes."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pulumi_policy.policy
import pulumi_policy.proxy
import pulumi_policy.secret
import pytest
from ecs_guardrails import sdk_internals
from ecs_guardrails.sdk_internals import PulumiPolicyIncompatible
from pack_driver import servicer_class

SNAPSHOT = Path(__file__).resolve().parent / "sdk_snapshot.py"


def _snapshot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SNAPSHOT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SNAPSHOT.parent,
    )


def test_importing_and_running_the_pack_changes_no_sdk_attribute() -> None:
    proc = _snapshot()
    assert (proc.returncode, proc.stdout.strip()) == (0, "unchanged"), proc.stdout + proc.stderr


def test_the_snapshot_notices_a_patched_servicer() -> None:
    proc = _snapshot("--patch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.split("\n")[0] == "replaced pulumi_policy.policy._PolicyAnalyzerServicer.Analyze"


def test_the_pack_refuses_an_sdk_of_another_shape_at_import() -> None:
    proc = _snapshot("--break-sdk")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "ecs_guardrails.sdk_internals.PulumiPolicyIncompatible: ecs-guardrails cannot run on "
    ), last
    assert "pulumi_policy.proxy.UnknownValueError is None, expected an exception class" in last
    assert "written for pulumi_policy 1.21.x" in last


# ---- sdk_internals: one check per internal it reads ---------------------------------------------------


def _modules(**changes: Any) -> tuple[Any, Any, Any]:
    """Copies of pulumi_policy.proxy, .policy and .secret as namespaces; `changes` maps "module.attr" to a
    replacement (None deletes it)."""
    mods = {
        "proxy": types.SimpleNamespace(**vars(pulumi_policy.proxy)),
        "policy": types.SimpleNamespace(**vars(pulumi_policy.policy)),
        "secret": types.SimpleNamespace(**vars(pulumi_policy.secret)),
    }
    for dotted, value in changes.items():
        module, attr = dotted.split("__")
        if value is None:
            delattr(mods[module], attr)
        else:
            setattr(mods[module], attr, value)
    return mods["proxy"], mods["policy"], mods["secret"]


def test_the_installed_sdk_has_the_expected_shape() -> None:
    sentinels, error, proxies = sdk_internals._check(*_modules())
    assert len(set(sentinels.values())) == 7
    assert error is pulumi_policy.proxy.UnknownValueError
    assert len(proxies) == 4
    assert sdk_internals.UNKNOWN_STRING == pulumi_policy.proxy.UNKNOWN_STRING_VALUE


class _OtherError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"proxy__UNKNOWN_NUMBER_VALUE": None}, "pulumi_policy.proxy.UNKNOWN_NUMBER_VALUE is None"),
        ({"proxy__UNKNOWN_STRING_VALUE": 7}, "pulumi_policy.proxy.UNKNOWN_STRING_VALUE is 7"),
        ({"proxy__UnknownValueError": None}, "pulumi_policy.proxy.UnknownValueError is None"),
        ({"policy__UnknownValueError": _OtherError}, "pulumi_policy.policy no longer catches"),
        (
            {"proxy__UnknownValueError": _OtherError, "policy__UnknownValueError": _OtherError},
            "UnknownValueError(sentinel, [path]) fails (TypeError",
        ),
        ({"proxy__unknown_checking_proxy": lambda props: props}, "its property proxies changed (KeyError"),
        (
            {"proxy__unknown_checking_proxy": None},
            "unknown_checking_proxy or secret.secrets_preserving_proxy",
        ),
        (
            {"secret__secrets_preserving_proxy": lambda v: types.MappingProxyType({"__target": dict(v)})},
            "secrets_preserving_proxy of a dict is mappingproxy",
        ),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_an_sdk_of_another_shape_is_refused_with_what_changed(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(PulumiPolicyIncompatible) as e:
        sdk_internals._check(*_modules(**change))
    message = str(e.value)
    assert message.startswith("ecs-guardrails cannot run on pulumi_policy "), message
    assert expected in message
    assert message.endswith("(update policies/ecs_guardrails/sdk_internals.py or pin pulumi-policy)")


def test_proxy_target_and_defer_unknown_use_the_sdks_own_objects() -> None:
    plain = {"a": [1, {"b": pulumi_policy.proxy.UNKNOWN_NUMBER_VALUE}]}
    proxied = pulumi_policy.proxy.unknown_checking_proxy(plain)
    target = sdk_internals.proxy_target(proxied)
    assert type(target) is dict and list(target) == ["a"]
    assert sdk_internals.proxy_target(target["a"])[0] == 1
    assert sdk_internals.proxy_target(plain) is plain
    with pytest.raises(pulumi_policy.proxy.UnknownValueError) as e:
        sdk_internals.defer_unknown(pulumi_policy.proxy.UNKNOWN_NUMBER_VALUE, "a[1].b")
    assert e.value.message == "number value at .a[1].b can't be known during preview"


# ---- the test driver's servicer ------------------------------------------------------------------------


def test_the_driver_builds_the_sdks_servicer() -> None:
    assert servicer_class() is pulumi_policy.policy._PolicyAnalyzerServicer


class _NoRemediate:
    def __init__(self, name, version, policies, enforcement_level, initial_config=None, description=None): ...
    def GetAnalyzerInfo(self, request, context): ...
    def Configure(self, request, context): ...
    def Analyze(self, request, context): ...
    def AnalyzeStack(self, request, context): ...


class _Reordered(_NoRemediate):
    def __init__(self, name, policies, version, enforcement_level, initial_config=None, description=None): ...
    def Remediate(self, request, context): ...


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (None, "there is no class _PolicyAnalyzerServicer"),
        (_NoRemediate, "_PolicyAnalyzerServicer lacks Remediate"),
        (_Reordered, "_PolicyAnalyzerServicer takes (name, policies, version, "),
    ],
)
def test_the_driver_refuses_a_servicer_of_another_shape(cls: type | None, expected: str) -> None:
    module = types.ModuleType("pulumi_policy.policy")
    if cls is not None:
        module._PolicyAnalyzerServicer = cls  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError) as e:
        servicer_class(module)
    assert str(e.value).startswith(
        "tests/policies/pack_driver.py cannot build the pack's servicer: in pulumi_policy.policy, "
    )
    assert expected in str(e.value)
