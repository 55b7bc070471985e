"""What a reviewer does to a pair on the review page, and the record of what was done.

Accept, reject, skip and undo (keys A, X, S, U: single keys are ignored while typing in a
field), a note kept with the decision, bulk accept with its check sample and precision
estimate; the pair's status, competitors and history; progress per reviewer. Each
decision names the last decision the reviewer saw, so one made meanwhile by someone
else wins and this one is refused with one line, never a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy import Engine

from data_layer.errors import StormwaterError
from matching import decisions as dec
from pages import _shared as sh
from pages._shared import K

log = logging.getLogger(__name__)

KEY = ("wdid", "app_id", "facility_place_id")
#: Share of a bulk accept set aside for a second look, unless the reviewer picks another.
DEFAULT_CHECK_SHARE = 0.1
#: Bulk accept offers pairs at or above this score unless the reviewer picks another.
DEFAULT_BULK_SCORE = 0.9
#: How a pair's (status, method) reads.
STANDING = {
    ("queued", "auto"): "awaiting review",
    ("queued", "manual"): "awaiting review",
    ("linked", "auto"): "linked automatically (score at or above the auto-link threshold)",
    ("linked", "manual"): "linked by a reviewer",
    ("rejected", "auto"): "rejected",
    ("rejected", "manual"): "rejected by a reviewer",
}
#: Sampled bulk accepts listed for checking at once.
CHECKS_SHOWN = 5


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["wdid"], row["app_id"], row["facility_place_id"])


def _last_id(pairs: pl.DataFrame, key: tuple[str, str, str]) -> int | None:
    """The latest decision on `key` as this run read it (what the reviewer saw)."""
    rows = pairs.filter(**dict(zip(KEY, key, strict=True)))["last_decision_id"].to_list()
    return int(rows[0]) if rows and rows[0] is not None else None


def act(
    action: Callable[[], Any],
    done: str | Callable[[Any], str],
    then: tuple[str, str, str] | None,
) -> None:
    """A button's callback: run one decision with the values the reviewer saw when the page
    was drawn. Its outcome shows once; a refusal keeps the pair on screen, success moves on
    to `then` (None: the next pair in the queue)."""
    try:
        outcome = action()
    except StormwaterError as exc:
        st.session_state[K.FLASH] = ("warning", f"Not saved: {sh.plain(exc)}")
        return
    except Exception as exc:  # the decision store is unreachable or broken: one line
        log.exception("review decision failed")
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        st.session_state[K.FLASH] = ("error", f"Not saved: {sh.plain(reason)}")
        return
    st.session_state[K.FLASH] = ("success", done if isinstance(done, str) else done(outcome))
    if then is None:
        st.query_params.pop(K.PAIR, None)
    else:
        st.query_params[K.PAIR] = "|".join(then)


def flash() -> None:
    """The outcome of the last action, once."""
    kind, message = st.session_state.pop(K.FLASH, (None, None))
    if kind == "success":
        st.success(message, icon=":material/check:")
    elif kind == "warning":
        st.warning(message, icon=":material/block:")
    elif kind == "error":
        st.error(message)


def _skip(key: tuple[str, str, str]) -> None:
    skipped = st.session_state.setdefault(K.SKIPPED, [])
    if key not in skipped:
        skipped.append(key)
    st.query_params.pop(K.PAIR, None)


def decision_bar(
    engine: Engine, pair: dict[str, Any], pairs: pl.DataFrame, reviewer: str | None, blind: bool
) -> None:
    """Note, then accept / reject / skip / undo; disabled for anyone not signed in."""
    key = _key(pair)
    read_only = reviewer is None
    note_key = f"note|{'|'.join(key)}"
    st.text_input(
        "Note, kept with your decision",
        key=note_key,
        disabled=read_only,
        max_chars=2000,
        placeholder="e.g. same address, renamed in 2019",
    )
    names = f"{sh.plain(pair['smarts_name'])} ↔ {sh.plain(pair['esmr_name'])}"
    seen = _last_id(pairs, key)

    def decide(action: str) -> Callable[[], Any]:
        def run() -> int:
            st.session_state[K.LAST_DECISION] = key
            return dec.decide(
                engine,
                *key,
                action,
                reviewer or "",
                note=st.session_state.get(note_key, ""),
                score_shown=None if blind else pair["score"],
                expected_last_id=seen,
            )

        return run

    target = st.session_state.get(K.LAST_DECISION) or key
    undo = functools.partial(
        dec.decide,
        engine,
        *target,
        "undo",
        reviewer or "",
        expected_last_id=_last_id(pairs, target),
    )
    where = f"WDID {sh.plain(target[0])} ↔ place {sh.plain(target[2])}"
    buttons = (
        ("Accept", "A", ":material/link:", (decide("accept"), f"Accepted: {names}.", None)),
        ("Reject", "X", ":material/link_off:", (decide("reject"), f"Rejected: {names}.", None)),
        ("Undo my last decision", "U", ":material/undo:", (undo, f"Undone: {where}.", target)),
    )
    cols = st.columns(4)
    for col, (label, shortcut, icon, args) in zip(cols[:2] + cols[3:], buttons, strict=True):
        col.button(
            label,
            key=label.split()[0].lower(),
            type="primary" if shortcut == "A" else "secondary",
            shortcut=shortcut,
            icon=icon,
            disabled=read_only,
            on_click=act,
            args=args,
            width="stretch",
            help=f"Reverts your latest decision on {where}." if shortcut == "U" else None,
        )
    cols[2].button(
        "Skip / unsure",
        key="skip",
        shortcut="S",
        icon=":material/skip_next:",
        on_click=_skip,
        args=(key,),
        width="stretch",
    )
    if read_only:
        st.caption("Sign in as a reviewer (sidebar) to decide; until then the page is read-only.")
    else:
        st.caption("Keys: A accept · X reject · S skip · U undo your last decision.")


def pair_status(pair: dict[str, Any], pairs: pl.DataFrame, blind: bool) -> None:
    """Where the pair stands and which other candidates compete for either side."""
    last = (
        f"last decision: {pair['last_action']} by {sh.plain(pair['last_reviewer'])} on "
        f"{sh.day(pair['last_decided_at'])}"
        + (f" (“{sh.plain(pair['last_note'])}”)" if pair["last_note"] else "")
        if pair["last_action"]
        else "no human decision yet"
    )
    standing = STANDING.get((pair["status"], pair["method"]), pair["status"])
    st.caption(f"Status: **{standing}**; {last}.")
    rivals = pairs.filter(
        ((pl.col("wdid") == pair["wdid"]) & (pl.col("app_id") == pair["app_id"]))
        | (pl.col("facility_place_id") == pair["facility_place_id"])
    ).filter(~pl.struct(KEY).is_in([dict(zip(KEY, _key(pair), strict=True))]))
    if rivals.height:
        st.markdown(f"**Competing candidates** ({rivals.height}) — the same facility or place:")
        st.dataframe(
            rivals,
            hide_index=True,
            column_order=[
                "smarts_name",
                "wdid",
                "esmr_name",
                "facility_place_id",
                *([] if blind else ["score"]),
                "status",
            ],
            column_config={
                "smarts_name": "SMARTS facility",
                "wdid": "WDID",
                "esmr_name": "eSMR place",
                "facility_place_id": "Place id",
                "score": st.column_config.NumberColumn("Score", format="%.3f"),
                "status": "Status",
            },
        )


def history_table(history: pl.DataFrame, blind: bool) -> None:
    """Every decision on the pair, oldest first (the scores shown are hidden in blind mode)."""
    if history.height == 0:
        st.caption("No decision on this pair yet.")
        return
    st.dataframe(
        history,
        hide_index=True,
        column_order=[
            "id",
            "decided_at",
            "action",
            "reviewer",
            "note",
            *([] if blind else ["score_shown"]),
            "bulk_id",
        ],
        column_config={
            "id": "Decision",
            "decided_at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"),
            "action": "Action",
            "reviewer": "Reviewer",
            "note": st.column_config.TextColumn("Note", width="large"),
            "score_shown": st.column_config.NumberColumn("Score shown", format="%.3f"),
            "bulk_id": "Bulk batch",
        },
    )


def progress_table(progress: pl.DataFrame) -> None:
    people = progress.filter(pl.col("reviewer").is_not_null())
    if people.height == 0:
        st.caption("Nobody has decided a pair yet.")
        return
    st.dataframe(
        people.drop("remaining"),
        hide_index=True,
        column_config={
            "reviewer": "Reviewer",
            "reviewed": sh.INT | {"label": "Pairs whose decision is theirs"},
            "accepted": sh.INT | {"label": "Accepted"},
            "rejected": sh.INT | {"label": "Rejected"},
            "undone": sh.INT | {"label": "Undone"},
            "decisions": sh.INT | {"label": "Decisions made"},
        },
    )


def _bulk_done(result: dec.BulkResult) -> str:
    return (
        f"Bulk accepted {len(result.accepted):,} pairs ({len(result.skipped):,} skipped: decided "
        f"meanwhile); {len(result.check_keys):,} set aside for a check."
    )


def bulk_panel(engine: Engine, shown: pl.DataFrame, reviewer: str | None, blind: bool) -> None:
    """Accept every queued pair in view above a score, setting a random sample aside; then
    check the sample, whose results estimate the precision of bulk accepts."""
    read_only = reviewer is None
    if blind:
        st.caption("Bulk accept picks pairs by score, so it is off in blind mode.")
    else:
        left, right = st.columns(2)
        lowest = left.number_input(
            "Accept every pair awaiting review in this view scoring at least",
            0.0,
            1.0,
            DEFAULT_BULK_SCORE,
            0.01,
            key="bulk_score",
            disabled=read_only,
        )
        share = right.number_input(
            "Share set aside for a check",
            0.0,
            1.0,
            DEFAULT_CHECK_SHARE,
            0.05,
            key="bulk_share",
            disabled=read_only,
        )
        chosen = shown.filter((pl.col("status") == "queued") & (pl.col("score") >= lowest))
        keys = [tuple(k) for k in chosen.select(KEY).rows()]
        st.button(
            f"Accept {len(keys):,} pairs",
            key="bulk_accept",
            disabled=read_only or not keys,
            icon=":material/done_all:",
            on_click=act,
            args=(
                functools.partial(
                    dec.bulk_accept, engine, keys, reviewer or "", check_fraction=share
                ),
                _bulk_done,
                None,
            ),
        )
    precision = dec.bulk_precision(engine)
    st.metric(
        "Precision of bulk accepts (estimated)",
        sh.share(precision.estimate),
        help=f"{precision.correct} of {precision.checked} checked bulk accepts were right.",
    )
    sample = dec.check_sample(engine)
    st.caption(f"{sh.count(sample.height)} sampled bulk accepts await a check.")
    for row in sample.head(CHECKS_SHOWN).iter_rows(named=True):
        key = _key(row)
        text, right_col, wrong_col = st.columns([4, 1, 1], vertical_alignment="center")
        text.text(f"{row['smarts_name']}  ↔  {row['esmr_name']}   ({key[0]} / place {key[2]})")
        for col, correct, label in ((right_col, True, "Right"), (wrong_col, False, "Wrong")):
            col.button(
                label,
                key=f"check|{correct}|{'|'.join(key)}",
                disabled=read_only,
                on_click=act,
                args=(
                    functools.partial(dec.record_check, engine, key, correct, reviewer or ""),
                    f"Check recorded: the link was {label.lower()}.",
                    key,
                ),
            )
