"""Start the pack as the CLI does and talk to it over gRPC."""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
from ecs_guardrails.pack import build_rules
from google.protobuf import empty_pb2
from pack_driver import to_struct
from pack_fixtures import POLICIES
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc


def test_pack_serves_over_grpc():
    env = {
        **os.environ,
        "PULUMI_PROJECT": "ecs-platform",
        "PULUMI_STACK": "dev",
        "PULUMI_DRY_RUN": "true",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=POLICIES,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = proc.stdout.readline().decode().strip()
        assert line.isdigit(), (line, proc.stderr.read1().decode() if proc.poll() is not None else "")
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
            assert info.name == "ecs-guardrails"
            assert [p.name for p in info.policies] == [r.name for r in build_rules()]
            resp = stub.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type="aws:ecs/service:Service",
                    name="s",
                    urn="urn:pulumi:dev::ecs-platform::aws:ecs/service:Service::s",
                    properties=to_struct({"launchType": "EC2"}),
                ),
                timeout=20,
            )
            assert "ecs-service-capacity-provider-strategy" in {d.policyName for d in resp.diagnostics}
    finally:
        proc.kill()
        proc.wait(timeout=10)
