"""The policy pack side of a command: which pack and config apply, and the pack's processes started.

Owns: choosing the pack and its config file (`--policy-pack`, `--policy-pack-config`, else the
stack's own `<pack>/config/<stack>.json`), starting the pack's processes and configuring their
analyzers in threads (`PackStarts`), and the note about the request memo. Shared by
`python -m offline preview` and `python -m offline analyze`; what runs the analysis is
`analysis_session`, what stops the processes `pack_process.close_all`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .policy_config import PolicyError, load_policy_config_file
from .verdict import PolicyConfigSource, shown_path

if TYPE_CHECKING:
    from .analyzer import Analyzer
    from .pack_process import PolicyPackProcess


@dataclass
class PolicyChoice:
    """The pack to run (None: `--policy-pack none`), the config given to it and where it came from."""

    pack_dir: Path | None
    given: dict[str, Any] = field(default_factory=dict)
    source: PolicyConfigSource | None = None


def choose_policy(policy_pack: Path | None, stack: str, policy_pack_config: Path | None, default: Path) -> PolicyChoice:
    """`--policy-pack` (default: `default`; 'none' for no pack) and its config, read and checked."""
    pack_dir = policy_pack if policy_pack is not None else default
    if str(pack_dir) == "none":
        if policy_pack_config is not None:
            raise PolicyError(f"--policy-pack-config {policy_pack_config} given with --policy-pack none: no pack to configure")
        return PolicyChoice(None)
    source = policy_config_source(pack_dir, stack, policy_pack_config)
    given: dict[str, Any] = {}
    if source.path is not None:
        given = load_policy_config_file(policy_pack_config or pack_dir / "config" / f"{stack}.json")
    return PolicyChoice(pack_dir, given, source)


def policy_config_source(pack_dir: Path, stack: str, given: Path | None) -> PolicyConfigSource:
    """The config file applied: `--policy-pack-config` as given, else the stack's own
    `<pack>/config/<stack>.json` when it exists, else none (the pack's defaults)."""
    own = pack_dir / "config" / f"{stack}.json"
    found = own.is_file()
    path = str(given) if given is not None else shown_path(own) if found else None
    return PolicyConfigSource(path, shown_path(own), found)


class PackStarts:
    """The packs' start-ups (connect, configure), in threads while other work goes on.

    Nothing ever waits for these threads to end: `cancel` drops the ones not begun, and closing the
    packs ends the others (their reads see the pipe close)."""

    def __init__(self, packs: list[PolicyPackProcess], start: Callable[[PolicyPackProcess], Analyzer]) -> None:
        self._pool = futures.ThreadPoolExecutor(max_workers=len(packs), thread_name_prefix="pack-start")
        self._futures = [self._pool.submit(start, pack) for pack in packs]
        self.finished_at = 0.0
        for fut in self._futures:
            fut.add_done_callback(self._finished)

    def _finished(self, _fut: futures.Future[Any]) -> None:
        self.finished_at = max(self.finished_at, time.perf_counter())

    def ready(self) -> list[Analyzer] | None:
        """The analyzers once every pack started, else None; raises a start-up's error at once."""
        for fut in self._futures:
            if fut.done() and fut.exception() is not None:
                raise fut.exception()  # type: ignore[misc]
        return [fut.result() for fut in self._futures] if all(f.done() for f in self._futures) else None

    def wait(self) -> list[Analyzer]:
        futures.wait(self._futures, return_when=futures.FIRST_EXCEPTION)
        analyzers = self.ready()
        assert analyzers is not None
        return analyzers

    def cancel(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def start_packs(
    choice: PolicyChoice,
    count: int,
    deployment: dict[str, Any],
    *,
    rpc_timeout: float,
    start_timeout: float,
    nice: int = 0,
    old_urns: frozenset[str] | None = frozenset(),
    stack_tags: dict[str, str] | None = None,
) -> tuple[list[PolicyPackProcess], PackStarts]:
    """`count` processes of the chosen pack for `deployment` (project, stack, organization,
    dry_run, config), each analyzer configured alike in its own thread. `old_urns`: the baseline's
    URNs, which aliases are matched against (None: aliases sent as recorded); `stack_tags`: sent
    with ConfigureStack. The caller stops the processes (`close_all`) and cancels the starts on
    every exit path; the processes are returned as soon as each is spawned, so a failure part-way
    leaves none unaccounted for."""
    from .analyzer import Analyzer
    from .pack_process import PolicyPackProcess

    assert choice.pack_dir is not None
    source = choice.source.shown if choice.source else ""
    packs: list[PolicyPackProcess] = []

    def start(pack: PolicyPackProcess) -> Analyzer:
        analyzer = Analyzer(pack, rpc_timeout=rpc_timeout, old_urns=old_urns, stack_tags=stack_tags, **deployment)
        analyzer.start(choice.given, source=source)
        return analyzer

    try:
        for _ in range(count):
            packs.append(PolicyPackProcess(choice.pack_dir, start_timeout=start_timeout, nice=nice, **deployment))
    except BaseException:
        from .pack_process import close_all

        close_all(packs)
        raise
    return packs, PackStarts(packs, start)


def note_memo(pack: PolicyPackProcess) -> None:
    """Say once, on stderr, when the pack runs without the request memo although it was asked for."""
    memo = pack.memo_report
    if pack.memo and memo is not None and not memo.startswith("installed"):
        from .pack_bootstrap import MEMO_REPORT

        print(f"{MEMO_REPORT}{memo}", file=sys.stderr)
