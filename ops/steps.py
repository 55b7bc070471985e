"""The steps an unattended run is made of, each ending in a `Step` with its exit code.

A step calls a public library function (never a subprocess), turns what came back — or the
named error it raised — into one summary line and a few figures, and never lets an error
escape: the chain decides what to do next from the code alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from data_layer.connection import open_store
from data_layer.errors import StormwaterError
from data_layer.pg.sync import sync
from data_layer.store import Store
from loaders.progress import Progress
from loaders.refresh import FAILED, PUBLISHED, UNCHANGED, RefreshOptions, refresh
from matching.links import current_links
from matching.state import open_state
from matching.store_match import match_store
from ops.exit_codes import MEANINGS, ExitCode, code_for_error, outcome_code

log = logging.getLogger(__name__)


@dataclass
class Step:
    """How one step of a run ended: code (None when skipped), summary line, figures."""

    name: str
    code: ExitCode | None
    summary: str
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """`updated`, `nothing_changed`, `partly_failed`, `failed`, `locked` or `skipped`."""
        return "skipped" if self.code is None else self.code.name.lower()

    def line(self) -> str:
        """The one-line summary people read."""
        return (
            f"{self.name}: {self.outcome.replace('_', ' ')} — {self.summary} ({self.seconds:.1f} s)"
        )

    def record(self) -> dict[str, Any]:
        """The summary as one JSON-ready object (no per-dataset details)."""
        return {
            "step": self.name,
            "outcome": self.outcome,
            "code": None if self.code is None else int(self.code),
            "summary": self.summary,
            "seconds": self.seconds,
            "figures": self.figures,
            "error": self.error,
        }


def skipped(name: str, reason: str) -> Step:
    """A step that did not run, and why."""
    return Step(name, None, reason)


def guarded(name: str, body: Callable[[], Step]) -> Step:
    """Run `body`; a raised error becomes a failed Step (with its code), never an escape."""
    started = time.monotonic()
    try:
        step = body()
    except StormwaterError as exc:
        log.error("%s: %s", name, exc, extra=_failed(name))
        step = Step(name, code_for_error(exc), str(exc), error=str(exc))
    except Exception as exc:  # unexpected: traceback to the log, the run still ends cleanly
        log.exception("%s: unexpected failure", name, extra=_failed(name))
        reason = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
        step = Step(name, ExitCode.FAILED, reason, error=reason)
    step.seconds = round(time.monotonic() - started, 3)
    return step


def _failed(name: str) -> dict[str, Any]:
    return {"event": "step_failed", "figures": {"step": name}}


def refresh_step(store: Store, options: RefreshOptions) -> Step:
    """Refresh the store; the code says updated / nothing changed / partly failed / failed."""
    return guarded("refresh", lambda: _refresh(store, options))


def _refresh(store: Store, options: RefreshOptions) -> Step:
    outcomes = refresh(store, options)
    by = {kind: [o for o in outcomes if o.outcome == kind] for kind in (PUBLISHED, UNCHANGED)}
    failed = [o for o in outcomes if o.outcome == FAILED]
    code = outcome_code(len(by[PUBLISHED]), len(by[UNCHANGED]), len(failed))
    summary = (
        f"{len(by[PUBLISHED])} published, {len(by[UNCHANGED])} unchanged, {len(failed)} failed"
        f" of {len(outcomes)} datasets"
    )
    error = None
    if failed:
        error = f"{len(failed)} of {len(outcomes)} datasets failed: " + "; ".join(
            f"{o.dataset} ({o.error})" for o in failed
        )
    figures = {
        "published": [o.dataset for o in by[PUBLISHED]],
        "unchanged": len(by[UNCHANGED]),
        "failed": [o.dataset for o in failed],
        "rows_out": sum(o.rows_out for o in by[PUBLISHED]),
        "rejects": sum(o.rejects for o in by[PUBLISHED]),
    }
    log.info("refresh: %s", MEANINGS[code], extra={"event": "refresh_finished", "figures": figures})
    return Step(
        "refresh",
        code,
        summary,
        figures=figures,
        error=error,
        details=[asdict(o) for o in outcomes],
    )


def match_step(
    store: Store,
    state_url: str,
    *,
    auto: float,
    review: float,
    pg_url: str | None = None,
    memory_limit: str = "2GB",
) -> Step:
    """Score and record a match run over the freshly refreshed store; updated when it found
    new candidate pairs. Human decisions are never touched (matching.runs)."""
    return guarded("match", lambda: _match(store, state_url, auto, review, pg_url, memory_limit))


def _match(
    store: Store, state_url: str, auto: float, review: float, pg_url: str | None, memory_limit: str
) -> Step:
    conn, engine = open_store(store.root, memory_limit), open_state(state_url)
    try:
        summary = match_store(conn.cursor(), engine, auto=auto, review=review, pg_url=pg_url)
    finally:
        conn.close()
        engine.dispose()
    figures = asdict(summary)
    log.info("match: %s", summary.line(), extra={"event": "match_finished", "figures": figures})
    code = ExitCode.UPDATED if summary.new else ExitCode.NOTHING_CHANGED
    return Step("match", code, summary.line(), figures=figures)


def sync_step(store: Store, pg_url: str, state_url: str | None, memory_limit: str = "2GB") -> Step:
    """Bring PostgreSQL in line with the store and, when `state_url` is given (matching on),
    the link decisions; updated when any row was written or removed."""
    return guarded("sync", lambda: _sync(store, pg_url, state_url, memory_limit))


def _sync(store: Store, pg_url: str, state_url: str | None, memory_limit: str) -> Step:
    links = None
    if state_url:
        engine = open_state(state_url)
        try:
            links = current_links(engine)
        finally:
            engine.dispose()
    conn = open_store(store.root, memory_limit)
    try:
        report = sync(
            conn, pg_url, links=links, progress=lambda label, total: Progress(label, total, "rows")
        )
    finally:
        conn.close()
    changed = sum(report.total(k) for k in ("created", "updated", "deleted"))
    figures = {k: report.total(k) for k in ("created", "updated", "deleted", "unchanged")}
    figures |= {"mode": report.mode, "findings": report.findings, "target": report.target}
    log.info("sync: %s", report.line(), extra={"event": "sync_finished", "figures": figures})
    code = ExitCode.UPDATED if changed else ExitCode.NOTHING_CHANGED
    return Step("sync", code, report.line(), figures=figures)
