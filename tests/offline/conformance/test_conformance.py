"""Conformance: pulumi-policy 1.21.0's own integration scenarios, through `python -m offline preview`.

pulumi-policy's `tests/integration/integration_test.go` (v1.21.0) runs each of its cases' programs
with a policy pack under `pulumi up`, scenario by scenario (`pulumi config set scenario N`), and
checks what the CLI prints and whether it fails. Here, the 13 cases that have a Python pack, each
scenario in `--mode preview` and `--mode update`: the programs (`programs/`, ported to Python:
dynamic resources are `pulumi-python:dynamic:Resource`, pulumi-random's resources stand-ins with
its type tokens) and packs (`packs/`) are ports written for this project; each scenario names the
upstream line it comes from and asserts the outcome `pulumi up` has: each diagnostic as the CLI
prints it (`[level]  policy  (type: name)`, the description, the message), the exit status
(advisory passes, mandatory fails: exit 1 here; a config the CLI refuses: exit 2 with its lines).

Where the offline preview cannot do what `pulumi up` does, the honest outcome is asserted instead:
- unknown values (`:489`) exist only in a preview: `pulumi up` reports them from its preview step,
  which is `--mode preview` here (its verdict INCOMPLETE: the mandatory checks that could not run
  are left to the update); `--mode update` analyses the known values of an update;
- the remote component's provider (`:893`) cannot run here: its children are not analysed and the
  verdict is INCOMPLETE, naming the component, in both modes;
- the `error: ` the CLI puts before each config line is `error (policy pack error): ` on the first
  line here (one error, one line per problem).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from offline_testlib import REPO  # noqa: E402

STACK = "conformance"
MODES = ("preview", "update")
NODE_DYNAMIC, PY_DYNAMIC = "pulumi-nodejs:dynamic:Resource", "pulumi-python:dynamic:Resource"


@dataclass(frozen=True)
class Scenario:
    case: str  # the upstream test's folder (program and pack here share its name)
    number: int  # upstream scenario number (the program's and pack's `scenario` config)
    line: int  # integration_test.go line of the scenario (v1.21.0)
    want: tuple[str, ...] = ()  # upstream WantErrors, verbatim (Node.js dynamic type)
    advisory: bool = False  # upstream Advisory: the update succeeds despite them
    headers: tuple[str, ...] = ()  # every diagnostic's header line, as the CLI prints it
    policy_config: dict[str, Any] | None = None  # upstream PolicyPackConfig
    config: dict[str, str] = field(default_factory=dict)  # upstream initialConfig
    tags: tuple[str, ...] = ()
    preview_only: bool = False  # its diagnostics come from `pulumi up`'s preview step, where the
    # mandatory checks that read unknown values are deferred to the update: INCOMPLETE here
    incomplete: str = ""  # the remote component named by the INCOMPLETE verdict
    error: str = ""  # the preview fails (exit 2) with this on stderr

    @property
    def id(self) -> str:
        return f"{self.case}-{self.number}"


def _violation(level: str, policy: str, where: str, description: str, message: str) -> tuple[tuple[str, ...], str]:
    """Upstream's lines for one diagnostic, and its header ("" for `where`: the stack's)."""
    header = f"[{level}]  {policy}" + (f"  ({where})" if where else "")
    return (header, description, message), header


def _scenarios() -> list[Scenario]:
    out: list[Scenario] = []

    def add(case: str, line: int, *items: tuple[Any, ...], **kw: Any) -> None:
        for number, (want, headers, advisory) in enumerate(items, start=1):
            out.append(Scenario(case, number, line, tuple(want), advisory, tuple(headers), **kw))

    clean: tuple[Any, ...] = ((), (), False)

    def one(level: str, policy: str, where: str, description: str, message: str, advisory: bool = False) -> tuple:
        want, header = _violation(level, policy, where, description, message)
        return (want, (header,), advisory)

    # TestValidateResource, :311-385
    dyn = "Prohibits setting state to {} on dynamic resources."
    add(
        "validate_resource", 311,
        clean, clean,
        one("mandatory", "dynamic-no-state-with-value-1", f"{NODE_DYNAMIC}: a",
            dyn.format(1), "'state' must not have the value 1."),
        one("mandatory", "dynamic-no-state-with-value-2", f"{NODE_DYNAMIC}: b",
            dyn.format(2), "'state' must not have the value 2."),
        one("mandatory", "dynamic-no-state-with-value-3-or-4", f"{NODE_DYNAMIC}: c", dyn.format("3 or 4"),
            "'state' must not have the value 3."),
        one("mandatory", "dynamic-no-state-with-value-3-or-4", f"{NODE_DYNAMIC}: d", dyn.format("3 or 4"),
            "'state' must not have the value 4."),
        one("mandatory", "randomuuid-no-keepers", "random:index/randomUuid:RandomUuid: r1",
            "Prohibits creating a RandomUuid without any 'keepers'.", "RandomUuid must not have an empty 'keepers'."),
        clean,
        one("mandatory", "dynamic-no-state-with-value-5", f"{NODE_DYNAMIC}: e",
            dyn.format(5), "'state' must not have the value 5."),
        clean, clean,
    )
    # TestValidatePythonResource, :388-414
    keepers = ("Prohibits creating a RandomUuid without any 'keepers'.", "RandomUuid must not have an empty 'keepers'.")
    add(
        "validate_python_resource", 388,
        one("mandatory", "randomuuid-no-keepers", "random:index/randomUuid:RandomUuid: r1", *keepers),
        one("mandatory", "randomuuid-no-keepers", "random:index/randomUuid:RandomUuid: r2", *keepers),
        clean,
    )
    # TestValidateStack, :417-486 (a stack policy's violation without a URN is the stack's: no parenthesis)
    add(
        "validate_stack", 417,
        clean, clean,
        one("mandatory", "dynamic-no-state-with-value-1", "", dyn.format(1), "'state' must not have the value 1."),
        one("mandatory", "dynamic-no-state-with-value-2", "", dyn.format(2), "'state' must not have the value 2."),
        one("mandatory", "dynamic-no-state-with-value-3", f"{NODE_DYNAMIC}: c",
            dyn.format(3), "'state' must not have the value 3."),
        one("mandatory", "randomuuid-no-keepers", "", *keepers),
        one("mandatory", "no-randomstrings", "",
            "Prohibits RandomString resources.", "RandomString resources are not allowed."),
        clean, clean,
        one("mandatory", "dynamic-no-foo-with-value-bar", "", "Prohibits setting foo to 'bar' on dynamic resources.",
            "'foo' must not have the value 'bar'."),
    )
    # TestUnknownValues, :489-506
    cant = (
        "can't run policy '{}' from policy pack 'unknown-values-policy@v0.0.1' during preview: "
        "string value at .prefix can't be known during preview"
    )
    add(
        "unknown_values", 489,
        (
            ("unknown-values-policy@v0.0.1",
             "[advisory]  unknown-values-resource-validation  (random:index/randomPet:RandomPet: pet)",
             cant.format("unknown-values-resource-validation"),
             "[advisory]  unknown-values-stack-validation",
             cant.format("unknown-values-stack-validation")),
            ("[advisory]  unknown-values-resource-validation  (random:index/randomPet:RandomPet: pet)",
             "[advisory]  unknown-values-stack-validation"),
            True,
        ),
        config={"aws:region": "us-west-2"}, preview_only=True,
    )
    # TestRuntimeData, :509-516
    add("runtime_data", 509, clean, config={"aConfigValue": "this value is a value", "aws:region": "us-west-2"})
    # TestResourceOptions, :519-528
    add("resource_options", 519, clean, clean)
    # TestParentDependencies, :531-537
    add("parent_dependencies", 531, clean)
    # TestProvider, :540-544
    add("provider", 540, clean)
    # TestEnforcementLevel, :547-699: (pack level, policy level) -> what the CLI prints
    levels = ["advisory", "disabled", "mandatory", None]
    items = []
    for pack in levels:
        for policy in levels:
            level = policy or pack or "advisory"
            if level == "disabled" or (pack == "disabled" and policy is None):
                items.append(clean)
                continue
            r, rh = _violation(level, "validate-resource", "random:index/randomString:RandomString: str",
                               "Always reports a resource violation.", "validate-resource-violation-message")
            s, sh = _violation(level, "validate-stack", "", "Always reports a stack violation.",
                               "validate-stack-violation-message")
            # The resource policy reports every resource: the stack and the default provider too.
            others = (f"[{level}]  validate-resource", f"[{level}]  validate-resource  (pulumi:providers:random: default_4_0_0)")
            items.append(((*r, *s), (rh, sh, *others), level == "advisory"))
    add("enforcementlevel", 547, *items)
    # TestConfig, :702-880
    preamble = "error: validating policy config: config-policy 0.0.1  "

    def config_errors(*errors: str) -> str:
        return "\n".join(preamble + p + ": " + e for e in errors for p in ("resource-validation", "stack-validation"))

    both = lambda c: {"resource-validation": c, "stack-validation": c}  # noqa: E731
    config_cases: dict[int, tuple[dict[str, Any] | None, str]] = {
        1: (both({"foo": "bar"}), ""), 2: (None, ""), 3: (None, ""), 4: (both({"foo": "overridden"}), ""), 5: (None, ""),
        6: (None, config_errors("foo is required")),
        7: (None, config_errors("foo: Invalid type. Expected: string, given: integer")),
        8: (None, config_errors("foo: String length must be less than or equal to 3")),
        9: (None, config_errors("foo: String length must be greater than or equal to 50")),
        10: (None, config_errors('foo: foo must be one of the following: "bar", "baz"')),
        11: (None, config_errors('foo: foo does not match: "bar"')),
        12: (both({"foo": 1}), config_errors("foo: Invalid type. Expected: string, given: integer")),
        13: (both({"foo": "blah"}), config_errors('foo: foo must be one of the following: "bar", "baz"')),
        14: (both({"foo": "blah"}), config_errors('foo: foo does not match: "bar"')),
        15: (both({"foo": "this is too long", "bar": 3.14}), config_errors(
            "bar: Invalid type. Expected: integer, given: number", "foo: String length must be less than or equal to 3")),
        16: (both({"foo": 42}), ""), 17: (both({"foo": 3.14}), ""), 18: (both({"foo": 42}), ""),
        19: (both({"foo": True}), ""), 20: (both({"foo": False}), ""), 21: (both({"foo": {"bar": "baz"}}), ""),
        22: (both({"foo": ["a", "b", "c"]}), ""), 23: (both({"foo": None}), ""), 24: (None, ""),
        25: (both({"foo": "overridden"}), ""),
    }
    for number, (policy_config, errors) in config_cases.items():
        out.append(Scenario("config", number, 702, policy_config=policy_config, error=errors))
    # TestDeserialize, :883-890
    add("deserialize", 883, clean)
    # TestRemoteComponent, :893-906: upstream's advisory "can't run policy" on the component's child
    # `innerRandom` needs the component's provider; here it is INCOMPLETE, naming the component.
    add("remote_component", 893, clean, incomplete="testcomponent:index:Component")
    # TestStackTags, :937-945 (tags foo=bar, hello=world on the stack)
    add("stack_tags", 937, clean, tags=("foo=bar", "hello=world"))
    return out


SCENARIOS = _scenarios()


def _python_type(text: str) -> str:
    return text.replace(NODE_DYNAMIC, PY_DYNAMIC)


def _rendered(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Each diagnostic as the CLI prints it: its header (`[level]  policy  (type: name)`; the
    stack's for a stack policy's violation without a resource, where the CLI prints no
    parenthesis: upstream's lines are a prefix of it), then its description and message lines."""
    headers, lines = [], []
    for d in report["diagnostics"]:
        type_, name = d["urn"].split("::")[2].rsplit("$", 1)[-1], d["urn"].split("::", 3)[3]
        header = f"[{d['enforcementLevel']}]  {d['policyName']}  ({type_}: {name})"
        headers.append(header)
        lines += [f"{d['policyPackName']}@v{d['policyPackVersion']}", header, *d["message"].splitlines()]
    return sorted(headers), lines


def _prepare(tmp_path: Path, s: Scenario) -> list[str]:
    program = tmp_path / s.case
    shutil.copytree(HERE / "programs" / s.case, program)
    shutil.copy(HERE / "programs" / "conformance_resources.py", program)
    config = {f"{s.case}:scenario": str(s.number)}
    config.update({k if ":" in k else f"{s.case}:{k}": v for k, v in s.config.items()})
    (program / f"Pulumi.{STACK}.yaml").write_text("config:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in config.items()))
    args = ["--program", str(program), "--stack", STACK, "--policy-pack", str(HERE / "packs" / s.case),
            "--pack-processes", "1", "--json", str(tmp_path / "report.json")]  # fmt: skip
    if s.policy_config is not None:
        (tmp_path / "policy-config.json").write_text(json.dumps(s.policy_config, indent=4))
        args += ["--policy-pack-config", str(tmp_path / "policy-config.json")]
    for tag in s.tags:
        args += ["--stack-tag", tag]
    return args


def _start(args: list[str], s: Scenario) -> subprocess.Popen[str]:
    env = {**os.environ, "PULUMI_TEST_PROJECT": s.case, "PULUMI_TEST_STACK": STACK}
    return subprocess.Popen(
        [sys.executable, "-m", "offline", "preview", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.id)
def test_scenario(tmp_path: Path, s: Scenario) -> None:
    """Both modes of one scenario, run at the same time (their start-ups overlap)."""
    runs = {}
    for mode in MODES:
        (tmp_path / mode).mkdir()
        runs[mode] = _start([*_prepare(tmp_path / mode, s), "--mode", mode], s)
    done = {mode: (proc, *proc.communicate(timeout=180)) for mode, proc in runs.items()}
    for mode, (proc, stdout, stderr) in done.items():
        _check(tmp_path / mode, s, mode, proc.returncode, stdout, stderr)


def _check(tmp_path: Path, s: Scenario, mode: str, code: int, stdout: str, stderr: str) -> None:
    where = f"integration_test.go:{s.line} scenario {s.number} ({mode})\n{stdout[-3000:]}\n{stderr[-3000:]}"
    if s.error:
        assert code == 2, where
        label = "error (policy pack error): "
        assert stderr.startswith(label), where
        got = stderr[len(label):].rstrip("\n").splitlines()
        assert sorted(got) == sorted(line.removeprefix("error: ") for line in s.error.splitlines()), where
        return
    report = json.loads((tmp_path / "report.json").read_text())
    stack = f"pulumi:pulumi:Stack: {s.case}-{STACK}"
    headers, lines = _rendered(report)
    expect_diagnostics = not (s.preview_only and mode == "update")
    want_headers = [_python_type(h if "  (" in h else f"{h}  ({stack})") for h in s.headers]
    want_headers = sorted(want_headers) if expect_diagnostics else []
    assert headers == want_headers, where
    if expect_diagnostics:
        for want in s.want:
            assert any(_python_type(want) in line for line in lines), f"{want!r} not printed: {where}"
    summary = report["summary"]
    mandatory = any(h.startswith("[mandatory]") for h in want_headers)
    assert code == (1 if mandatory else 0), where
    assert summary["exitCode"] == code
    if s.preview_only and mode == "preview":
        assert summary["verdict"] == "incomplete" and len(summary["deferred"]) == len(want_headers), where
    elif s.incomplete:
        assert summary["verdict"] == "incomplete", where
        assert [u["type"] for u in report["unanalysed"]] == [s.incomplete], where
        assert f"{s.incomplete}  urn:pulumi:{STACK}::{s.case}::{s.incomplete}::component" in stdout, where
    else:
        assert summary["verdict"] == ("fail" if mandatory else "pass"), where
        assert report["unanalysed"] == [], where


def test_a_policys_exception_names_the_policy_and_its_message(tmp_path: Path) -> None:
    """The stack-tags pack without the tags it asserts (:937): its AssertionError ends the run as
    `pulumi up`'s does (`failed to run policy`), here naming the policy, the resource and the line."""
    s = next(x for x in SCENARIOS if x.case == "stack_tags")
    args = _prepare(tmp_path, Scenario(s.case, s.number, s.line))
    proc = _start([*args, "--mode", "preview"], s)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 2, stdout + stderr
    assert stderr.startswith(
        "error (policy pack error): policy pack stack-tags-policy 0.0.1: policy 'stack-tags-"
    ), stderr
    assert "-validation' failed on " in stderr and "AssertionError (at __main__.py:" in stderr, stderr
    assert "): Missing key: foo (pulumi up: error: " in stderr, stderr
    assert "Exception calling application: Missing key: foo)" in stderr, stderr


def test_an_alias_that_matched_the_old_state_reaches_the_pack(tmp_path: Path) -> None:
    """resource_options (:519) on a stack whose old state (`--baseline`, a `pulumi stack export`)
    has the aliased resource under its old name: the pack sees that alias, in both modes (the
    scenario `resource_options-1` checks that it sees none on a new stack)."""
    s = Scenario("resource_options", 1, 519, config={"oldState": "true"})
    old = f"urn:pulumi:{STACK}::{s.case}::{PY_DYNAMIC}::old-name-for-aliased"
    export = {"version": 3, "deployment": {"manifest": {}, "resources": [
        {"urn": f"urn:pulumi:{STACK}::{s.case}::pulumi:pulumi:Stack::{s.case}-{STACK}", "type": "pulumi:pulumi:Stack",
         "custom": False},
        {"urn": old, "type": PY_DYNAMIC, "custom": True, "id": "0", "inputs": {}},
    ]}}  # fmt: skip
    baseline = tmp_path / "export.json"
    baseline.write_text(json.dumps(export))
    runs = {}
    for mode in MODES:
        (tmp_path / mode).mkdir()
        runs[mode] = _start([*_prepare(tmp_path / mode, s), "--mode", mode, "--baseline", str(baseline)], s)
    for mode, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{mode}\n{stdout[-3000:]}\n{stderr}"
        report = json.loads((tmp_path / mode / "report.json").read_text())
        assert report["diagnostics"] == [] and report["summary"]["verdict"] == "pass"
