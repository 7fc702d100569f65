"""What the engine does that the offline preview matches, on a program with the shapes of public
ECS programs (tests/fixtures/lookup_program): invokes (answered like AWS, unknown in preview when
their arguments or dependencies are), stack references, reads, custom timeouts, aliases, default
providers disabled, and failures that name their cause and keep the run's warnings.

`run_program` runs each program in its own thread whose context is discarded, so this pytest
worker's Pulumi runtime state is left untouched."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from offline_testlib import FIXTURES

from offline.analysis_session import AnalysisSession
from offline.engine import EngineError, OfflineAnswers, ProgramError, RecordingMonitor, Registration, run_program
from offline.properties import UNKNOWN, contains_unknown, dict_to_struct
from offline.proto_mapping import resource_options
from offline.stack_config import load_project, load_stack_config

PROGRAM = FIXTURES / "lookup_program"
URN = "urn:pulumi:dev::lookup-app::"
NETWORK = {"acme/network/prod": {"vpcId": "vpc-0a1b2c3d4e5f60718"}}
ACCOUNT = "123456789012"


def _run(mode: str, answers: OfflineAnswers | None = None, program: Path = PROGRAM, stack: str = "dev") -> Any:
    project = load_project(program)
    return run_program(project, stack, load_stack_config(project, stack), dry_run=mode == "preview", answers=answers)


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    return {mode: _run(mode, OfflineAnswers(stack_references=dict(NETWORK))) for mode in ("preview", "update")}


def _reg(run: Any, suffix: str) -> Registration:
    return next(r for r in run.registrations if r.urn == URN + suffix)


def _exports(run: Any) -> dict[str, Any]:
    return run.root.outputs


def _write_program(tmp_path: Path, body: str, config: str = "  aws:region: eu-west-1\n") -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + config)
    (tmp_path / "__main__.py").write_text(textwrap.dedent(body))
    return tmp_path


# ---- invokes ------------------------------------------------------------------------------------------


def test_lookups_answer_like_aws_in_both_modes(runs: dict[str, Any]) -> None:
    for mode, run in runs.items():
        out = _exports(run)
        assert out["region"] == "eu-west-1" and out["account"] == ACCOUNT, mode
        assert out["zones"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
        assert re.fullmatch(r"ami-0[0-9a-f]{16}", out["ami"])
        # The repository lookup gives ECR's URL form: the image stays in ECR.
        assert out["image"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2"
        # The program decodes the authorization token: base64 of "AWS:<password>".
        assert out["registry"]["username"] == "AWS"
        assert out["registry"]["server"] == f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


def test_invoke_depending_on_a_new_resource_is_unknown_in_preview_computed_in_update(runs: dict[str, Any]) -> None:
    preview, update = runs["preview"], runs["update"]
    assert _exports(preview)["policy"] == UNKNOWN
    assert _reg(preview, "aws:iam/rolePolicy:RolePolicy::deployer-policy").inputs["policy"] == UNKNOWN
    document = json.loads(_exports(update)["policy"])
    cluster_name = _reg(update, "aws:ecs/cluster:Cluster::cluster").inputs["name"]
    assert document["Statement"][0] == {
        "Effect": "Allow",
        "Action": ["ecs:UpdateService", "ecs:DescribeServices"],
        "Resource": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/{cluster_name}",
    }
    assert _reg(update, "aws:iam/rolePolicy:RolePolicy::deployer-policy").inputs["policy"] == _exports(update)["policy"]


def test_invoke_with_an_unknown_nested_in_a_list_is_unknown_in_preview() -> None:
    """The SDK's own check misses an unknown string inside a list; the engine never hands a
    provider unknowns, so the answer is unknown, never a document naming the placeholder."""
    from pulumi.runtime.proto import resource_pb2

    project = load_project(PROGRAM)
    request = resource_pb2.ResourceInvokeRequest(
        tok="aws:iam/getPolicyDocument:getPolicyDocument",
        args=dict_to_struct({"statements": [{"actions": ["ecs:*"], "resources": [UNKNOWN]}]}),
    )
    for dry_run, unknown in ((True, True), (False, False)):
        monitor = RecordingMonitor(project.name, "dev", load_stack_config(project, "dev"), dry_run)
        response = monitor.Invoke(request)
        assert response.unknown is unknown
        assert not unknown or not getattr(response, "return").fields


def test_invoke_without_an_answer_returns_every_field_with_a_warning(runs: dict[str, Any]) -> None:
    for run in runs.values():
        assert isinstance(_exports(run)["instanceType"], str) and _exports(run)["instanceType"]
        warnings = [e.message for e in run.logs if e.severity == "warning"]
        assert [w for w in warnings if "aws:ec2/getInstanceTypeOffering:getInstanceTypeOffering has no offline answer" in w]


def test_a_failing_program_keeps_the_warnings_that_explain_it(tmp_path: Path) -> None:
    program = _write_program(
        tmp_path,
        """
        import pulumi_aws as aws
        offering = aws.ec2.get_instance_type_offering(preferred_instance_types=["m7i.large"])
        raise ValueError(f"unexpected offering {offering.instance_type}")
        """,
    )
    with pytest.raises(ProgramError) as caught:
        _run("update", program=program)
    error = caught.value
    assert re.fullmatch(r"ValueError: unexpected offering \S+ \(at __main__\.py:4, in <module>\)", error.cause)
    assert any("getInstanceTypeOffering has no offline answer" in w for w in error.warnings)
    assert "getInstanceTypeOffering has no offline answer" in str(error)
    assert ProgramError.from_payload(json.loads(json.dumps(error.payload()))).warnings == error.warnings


def test_a_missing_module_names_it_and_where_to_install_it(tmp_path: Path) -> None:
    program = _write_program(tmp_path, "import pulumi_not_installed_anywhere\n")
    with pytest.raises(ProgramError) as caught:
        _run("preview", program=program)
    cause = caught.value.cause
    assert "'pulumi_not_installed_anywhere'" in cause and "not installed in the Python environment" in cause
    assert "install it there" in cause and "\n" not in cause


# ---- stack references ---------------------------------------------------------------------------------


def test_stack_reference_outputs_come_from_the_given_outputs(runs: dict[str, Any]) -> None:
    for run in runs.values():
        assert _exports(run)["vpcId"] == "vpc-0a1b2c3d4e5f60718"
        group = _reg(run, "aws:ec2/securityGroup:SecurityGroup::tasks")
        assert group.inputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"
        reference = _reg(run, "pulumi:pulumi:StackReference::acme/network/prod")
        assert reference.read and reference.outputs["outputs"] == NETWORK["acme/network/prod"]
        assert reference.outputs["secretOutputNames"] == []


def test_stack_reference_without_outputs_is_unknown_in_preview_and_fails_update() -> None:
    preview = _run("preview")
    assert _exports(preview)["vpcId"] == UNKNOWN
    assert any("--stack-reference acme/network/prod=FILE" in e.message for e in preview.logs)
    with pytest.raises(EngineError) as caught:
        _run("update")
    assert caught.value.cause.startswith("stack reference 'acme/network/prod' has no outputs offline")
    assert "--stack-reference acme/network/prod=FILE" in caught.value.cause


def test_stack_reference_names_are_qualified_like_the_cli(tmp_path: Path) -> None:
    program = _write_program(
        tmp_path,
        """
        import pulumi
        ref = pulumi.StackReference("network/prod")
        pulumi.export("vpc", ref.get_output("vpcId"))
        pulumi.export("secret", ref.get_output("token"))
        """,
    )
    answers = OfflineAnswers(
        stack_references={
            "organization/network/prod": {
                "vpcId": "vpc-0123",
                "token": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "t"},
            }
        }
    )
    run = _run("update", answers, program=program)
    assert _exports(run)["vpc"] == "vpc-0123"
    assert _exports(run)["secret"] == {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "t"}
    reference = next(r for r in run.registrations if r.type == "pulumi:pulumi:StackReference")
    assert reference.outputs["secretOutputNames"] == ["token"]


# ---- reads, options, default providers ------------------------------------------------------------------


def test_reads_are_recorded_with_plausible_state_and_not_analysed(runs: dict[str, Any]) -> None:
    run = runs["preview"]
    existing = _reg(run, "aws:ec2/securityGroup:SecurityGroup::existing")
    assert existing.read and existing.id == "sg-0123456789abcdef0"
    assert re.fullmatch(r"vpc-0[0-9a-f]{16}", _exports(run)["existingGroupVpc"])

    class Worker:  # records what the session asks a pack to analyse
        parallel = 1
        stack_seconds = 0.0
        info = type("Info", (), {"name": "probe"})()
        version = "1"
        policies: list[dict[str, Any]] = []  # the AnalysisResult a real Analyzer fills from GetAnalyzerInfo
        config: dict[str, dict[str, Any]] = {}

        def __init__(self) -> None:
            self.analyzed: list[str] = []
            self.stack: list[Any] = []

        def analyze_one(self, reg: Registration, providers: dict) -> tuple:
            self.analyzed.append(reg.urn)
            return [], [], reg.inputs, None

        def stack_resource(self, reg: Registration, props: dict, providers: dict, request: Any = None) -> str:
            return reg.urn

        def analyze_stack(self, resources: list, known: set, root: str) -> list:
            self.stack = resources
            return []

    worker = Worker()
    session = AnalysisSession(worker)  # type: ignore[arg-type]
    for reg in run.registrations:
        session.add(reg)
    session.finish(run.registrations, run.root.urn)
    reads = {r.urn for r in run.registrations if r.read}
    assert reads == {existing.urn, URN + "pulumi:pulumi:StackReference::acme/network/prod"}
    assert not reads & set(worker.analyzed) and not reads & set(worker.stack)
    assert URN + "aws:ecs/cluster:Cluster::cluster" in worker.analyzed


def test_custom_timeouts_reach_analyzers_in_seconds(runs: dict[str, Any]) -> None:
    logs = _reg(runs["preview"], "aws:cloudwatch/logGroup:LogGroup::app")
    assert logs.options["customTimeouts"] == {"create": 4500.0, "delete": 5400.0}
    timeouts = resource_options(logs).customTimeouts
    assert (timeouts.create, timeouts.update, timeouts.delete, timeouts.read) == (4500.0, 0.0, 5400.0, 0.0)


def test_a_custom_timeout_the_engine_cannot_parse_fails_with_its_message(tmp_path: Path) -> None:
    program = _write_program(
        tmp_path,
        """
        import pulumi, pulumi_aws as aws
        aws.s3.BucketV2("b", opts=pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="75 minutes")))
        """,
    )
    with pytest.raises(EngineError, match=r"aws:s3/bucketV2:BucketV2::b: unable to parse customTimeout Value 75 minutes"):
        _run("preview", program=program)


def test_alias_specs_become_alias_urns(runs: dict[str, Any], tmp_path: Path) -> None:
    cluster = _reg(runs["preview"], "aws:ecs/cluster:Cluster::cluster")
    assert cluster.options["aliases"] == [URN + "aws:ecs/cluster:Cluster::old-cluster"]
    # The pack sees only the alias that found the old state (step_generator.go:771-825): none on a
    # new stack, that one when the old state has it, none when the resource's own URN is there.
    assert list(resource_options(cluster).aliases) == []
    old = URN + "aws:ecs/cluster:Cluster::old-cluster"
    assert list(resource_options(cluster, frozenset({old, URN + "x:y:Z::other"})).aliases) == [old]
    assert list(resource_options(cluster, frozenset({old, cluster.urn})).aliases) == []
    program = _write_program(
        tmp_path,
        """
        import pulumi, pulumi_aws as aws
        class Box(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("probe:index:Box", name, None, opts)
        box = Box("box")
        aws.s3.BucketV2("b", opts=pulumi.ResourceOptions(parent=box, aliases=[
            pulumi.Alias(name="old-b"),
            pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE),
            pulumi.Alias(type_="aws:s3/bucket:Bucket", stack="prod", project="other"),
        ]))
        """,
    )
    bucket = next(r for r in _run("preview", program=program).registrations if r.name == "b")
    # `CreateURN`: under a parent, the parent's URN gives stack and project (the spec's are unused).
    assert bucket.options["aliases"] == [
        "urn:pulumi:dev::probe::probe:index:Box$aws:s3/bucketV2:BucketV2::old-b",
        "urn:pulumi:dev::probe::aws:s3/bucketV2:BucketV2::b",
        "urn:pulumi:dev::probe::probe:index:Box$aws:s3/bucket:Bucket::b",
    ]


def test_disabled_default_providers_are_denied_with_the_engine_message(tmp_path: Path) -> None:
    program = _write_program(
        tmp_path,
        """
        import pulumi, pulumi_aws as aws
        explicit = aws.Provider("explicit", region="eu-west-1")
        aws.s3.BucketV2("ok", opts=pulumi.ResourceOptions(provider=explicit))
        aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=explicit))
        aws.s3.BucketV2("b")
        """,
        config='  aws:region: eu-west-1\n  pulumi:disable-default-providers: ["aws"]\n',
    )
    with pytest.raises(EngineError) as caught:
        _run("preview", program=program)
    assert caught.value.cause == (
        "Default provider for 'aws' disabled. 'urn:pulumi:dev::probe::aws:s3/bucketV2:BucketV2::b' must use an "
        "explicit provider."
    )
    (program / "__main__.py").write_text("import pulumi_aws as aws\naws.get_region()\n")
    with pytest.raises(EngineError, match=r"^Default provider for 'aws' disabled\. 'aws:index/getRegion:getRegion'"):
        _run("preview", program=program)


def test_update_mode_outputs_of_remote_components_are_plausible(runs: dict[str, Any]) -> None:
    dns = _exports(runs["update"])["lbDnsName"]
    assert re.fullmatch(r"web-[0-9a-f]{7}-\d+\.eu-west-1\.elb\.amazonaws\.com", dns)
    assert _exports(runs["preview"])["lbDnsName"] == UNKNOWN
    assert not contains_unknown(_exports(runs["update"]))


def test_a_failure_of_the_stand_in_is_an_engine_error_naming_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offline import fakes

    def broken(*args: Any) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(fakes, "computed_outputs", broken)
    program = _write_program(tmp_path, "import pulumi_aws as aws\naws.s3.BucketV2('b')\n")
    with pytest.raises(EngineError) as caught:
        _run("update", program=program)
    assert re.fullmatch(
        r"the offline preview failed registering aws:s3/bucketV2:BucketV2 'b': RuntimeError: boom "
        r"\(at test_engine_semantics\.py:\d+\)",
        caught.value.cause,
    )


def test_an_invoke_the_provider_would_fail_fails_the_program_with_its_reason(tmp_path: Path) -> None:
    program = _write_program(tmp_path, "import pulumi_aws as aws\naws.elb.get_service_account(region='mars-east-1')\n")
    with pytest.raises(ProgramError) as caught:
        _run("preview", program=program)
    reason = "invoke of aws:elb/getServiceAccount:getServiceAccount failed: unsupported AWS Region: mars-east-1"
    assert reason in caught.value.cause
    answers = OfflineAnswers(
        invokes={"aws:elb/getServiceAccount:getServiceAccount": [{"args": None, "result": {"id": "999999999999"}}]}
    )
    (program / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "pulumi.export('account', aws.elb.get_service_account(region='mars-east-1').id)\n"
    )
    assert _exports(_run("preview", answers, program=program))["account"] == "999999999999"
