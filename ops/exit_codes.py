"""Exit codes of the unattended commands (`refresh`, `nightly`), one table for all who read them.

Schedulers act on the code alone: systemd marks a run failed on anything but 0 unless the unit
lists the code in `SuccessExitStatus=`, and wrapper scripts test `$?`. So "nothing changed" has
a code of its own that a unit can count as success, failures stay non-zero, and "another run
holds the lock" uses sysexits' EX_TEMPFAIL (75), the customary "try again later".
The CLI's help, the README table and the deploy examples are checked against this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from data_layer.errors import RefreshLocked, StormwaterError


class ExitCode(IntEnum):
    """How a run ended, as the process exit status."""

    UPDATED = 0
    FAILED = 1
    USAGE = 2
    PARTLY_FAILED = 3
    NOTHING_CHANGED = 4
    LOCKED = 75


#: What each code means, for `--help`, the README and alerts.
MEANINGS: dict[ExitCode, str] = {
    ExitCode.UPDATED: "updated: at least one dataset (or step) changed, nothing failed",
    ExitCode.FAILED: "failed: nothing could be refreshed, or a step failed; details on stderr",
    ExitCode.USAGE: "the command line was wrong (unknown option or dataset)",
    ExitCode.PARTLY_FAILED: "partly failed: some datasets failed and keep their previous version",
    ExitCode.NOTHING_CHANGED: "nothing changed: every source was unchanged (a success)",
    ExitCode.LOCKED: "another run holds the store's lock; try again later",
}

#: Non-zero codes a scheduler should count as success (systemd `SuccessExitStatus=`).
SCHEDULER_SUCCESS: tuple[ExitCode, ...] = (ExitCode.NOTHING_CHANGED,)

#: Codes that send an alert when alerts are configured.
ALERT_CODES: frozenset[ExitCode] = frozenset(
    {ExitCode.FAILED, ExitCode.PARTLY_FAILED, ExitCode.LOCKED}
)

#: Named errors with a code of their own; every other StormwaterError is FAILED.
ERROR_CODES: tuple[tuple[type[StormwaterError], ExitCode], ...] = (
    (RefreshLocked, ExitCode.LOCKED),
)

_SUCCESS = {ExitCode.UPDATED, ExitCode.NOTHING_CHANGED}


def code_for_error(exc: BaseException) -> ExitCode:
    """The exit code for an error that ended a run."""
    return next((code for kind, code in ERROR_CODES if isinstance(exc, kind)), ExitCode.FAILED)


def is_success(code: ExitCode) -> bool:
    """True for the codes a run can go on from (updated, nothing changed)."""
    return code in _SUCCESS


def outcome_code(changed: int, unchanged: int, failed: int) -> ExitCode:
    """The code of a run from how many of its parts changed, stayed the same or failed."""
    if failed:
        return ExitCode.PARTLY_FAILED if changed or unchanged else ExitCode.FAILED
    return ExitCode.UPDATED if changed else ExitCode.NOTHING_CHANGED


def chain_code(codes: Iterable[ExitCode]) -> ExitCode:
    """The code of a chain of steps: the first failure's, else updated if any step updated."""
    seen = list(codes)
    failure = next((c for c in seen if not is_success(c)), None)
    if failure is not None:
        return failure
    return ExitCode.UPDATED if ExitCode.UPDATED in seen else ExitCode.NOTHING_CHANGED


def describe() -> str:
    """The exit-code table as help text, one code per line."""
    return "\n".join(f"{int(code):>3}  {MEANINGS[code]}" for code in ExitCode)
