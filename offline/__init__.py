"""Offline preview: run a Pulumi Python program and a policy pack with no cloud and no Pulumi CLI."""

import os

# Children are started with vfork (see child_process), so gRPC's fork support is never needed.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
