"""The nightly chain: refresh → match → sync, stopping cleanly at the first failure.

Each step leaves the store and the databases consistent on its own (a refresh publishes
whole versions or keeps the previous ones; matching and sync commit per run), so stopping
after a failed step is always safe: later steps are recorded as skipped and the next night
starts from a consistent state. A partly failed refresh also stops the chain, so PostgreSQL
never mirrors a week in which some exports failed to load. The whole chain holds its own
lock; one record per step goes to the nightly log that the Data health page reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from data_layer.errors import StormwaterError
from data_layer.store import Store
from loaders.lock import refresh_lock
from loaders.refresh import RefreshOptions
from loaders.runlog import append_run
from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
from ops.exit_codes import ExitCode, chain_code, code_for_error, is_success
from ops.steps import Step, match_step, refresh_step, skipped, sync_step

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyPlan:
    """What the chain runs, from settings and flags: matching only when its flag is on, sync
    only when a PostgreSQL URL is configured."""

    refresh: RefreshOptions
    match: bool
    state_url: str = ""
    pg_url: str | None = field(default=None, repr=False)
    auto_threshold: float = DEFAULT_AUTO_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD


@dataclass
class Report:
    """The steps of one run (`refresh` alone, or the nightly chain) and where it ran."""

    job: str
    steps: list[Step] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    host: str = field(default_factory=socket.gethostname)
    started: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    @property
    def code(self) -> ExitCode:
        """The run's exit code: the first failure's, else updated or nothing changed."""
        return chain_code(s.code for s in self.steps if s.code is not None)

    @property
    def failed_step(self) -> Step | None:
        """The step that stopped the run, if any."""
        return next((s for s in self.steps if s.code is not None and not is_success(s.code)), None)


def _chain(store: Store, plan: NightlyPlan) -> list[tuple[str, Callable[[], Step]]]:
    """The steps in order, each as a callable that returns its Step."""

    def match() -> Step:
        if not plan.match:
            return skipped("match", "ENABLE_FACILITY_MATCHING is off")
        return match_step(
            store,
            plan.state_url,
            auto=plan.auto_threshold,
            review=plan.review_threshold,
            pg_url=plan.pg_url,
            memory_limit=plan.refresh.memory_limit,
        )

    def sync() -> Step:
        if not plan.pg_url:
            return skipped("sync", "no PostgreSQL configured (STORMWATER_PG_URL or --pg)")
        links_from = plan.state_url if plan.match else None
        return sync_step(store, plan.pg_url, links_from, plan.refresh.memory_limit)

    return [
        ("refresh", lambda: refresh_step(store, plan.refresh)),
        ("match", match),
        ("sync", sync),
    ]


def run_nightly(
    store: Store, plan: NightlyPlan, on_step: Callable[[Step], None] | None = None
) -> Report:
    """Run the chain under the nightly lock; `on_step` sees each Step as it ends."""
    report = Report("nightly")

    def add(step: Step) -> None:
        report.steps.append(step)
        _log_step(store, report, step)
        if on_step is not None:
            on_step(step)

    try:
        with refresh_lock(store.nightly_lock_path, what="nightly run"):
            for name, run in _chain(store, plan):
                stop = report.failed_step is not None
                add(skipped(name, "an earlier step failed") if stop else run())
    except StormwaterError as exc:  # the lock itself: busy, or its filesystem refuses locks
        add(Step("lock", code_for_error(exc), str(exc), error=str(exc)))
    return report


def _log_step(store: Store, report: Report, step: Step) -> None:
    """One line per step in the nightly log; a log that cannot be written does not end the run."""
    record = {"run_id": report.run_id, "host": report.host, "started": report.started}
    try:
        append_run(store.nightly_log_path, step.record() | record)
    except OSError as exc:
        log.warning("could not write the nightly log %s: %s", store.nightly_log_path, exc)
