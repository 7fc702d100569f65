"""Offline preview: run a Pulumi Python program and a policy pack with no cloud and no Pulumi CLI."""

import os

# The pack is started with fork+exec while gRPC threads run; gRPC's fork handlers only add noise.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
