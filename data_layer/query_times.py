"""How long data-layer queries take in this process, for the Data health page.

`run_query` records every query's duration here under its name; `query_time_summary` gives
p50/p95 per name. The recorder is process-wide on purpose — the app serves every session from
one process, and a rollout watches the whole of it — and stays small: the last `WINDOW`
durations per name, at most `MAX_NAMES` names (the oldest name goes first), behind a lock
because Streamlit runs sessions in threads. Nothing is written anywhere; a restart starts over.
"""

from __future__ import annotations

import threading
from collections import deque

import polars as pl

#: Durations kept per query name, and query names kept.
WINDOW = 500
MAX_NAMES = 200

SUMMARY_SCHEMA = {
    "query": pl.String,
    "calls": pl.Int64,
    "p50_ms": pl.Float64,
    "p95_ms": pl.Float64,
    "max_ms": pl.Float64,
}


class QueryTimes:
    """A bounded, thread-safe record of query durations by name."""

    def __init__(self, window: int = WINDOW, max_names: int = MAX_NAMES) -> None:
        self.window, self.max_names = window, max_names
        self._lock = threading.Lock()
        self._seconds: dict[str, deque[float]] = {}
        self._calls: dict[str, int] = {}

    def record(self, name: str, seconds: float) -> None:
        """Add one duration of query `name`."""
        with self._lock:
            times = self._seconds.get(name)
            if times is None:
                if len(self._seconds) >= self.max_names:
                    oldest = next(iter(self._seconds))
                    del self._seconds[oldest], self._calls[oldest]
                times = self._seconds[name] = deque(maxlen=self.window)
            times.append(seconds)
            self._calls[name] = self._calls.get(name, 0) + 1

    def summary(self) -> pl.DataFrame:
        """One row per query name, slowest p95 first (see `query_time_summary`)."""
        with self._lock:
            rows = [(n, c, list(self._seconds[n])) for n, c in self._calls.items()]
        samples = pl.DataFrame(
            [(n, 1000 * s) for n, _c, times in rows for s in times],
            schema={"query": pl.String, "ms": pl.Float64},
            orient="row",
        )
        calls = pl.DataFrame(
            [(n, c) for n, c, _t in rows],
            schema={"query": pl.String, "calls": pl.Int64},
            orient="row",
        )
        stats = samples.group_by("query").agg(
            pl.col("ms").quantile(0.5, "linear").alias("p50_ms"),
            pl.col("ms").quantile(0.95, "linear").alias("p95_ms"),
            pl.col("ms").max().alias("max_ms"),
        )
        return (
            calls.join(stats, on="query")
            .select(list(SUMMARY_SCHEMA))
            .cast(SUMMARY_SCHEMA)
            .sort(["p95_ms", "query"], descending=[True, False])
        )


#: The recorder `run_query` writes to.
QUERY_TIMES = QueryTimes()


def query_time_summary(recorder: QueryTimes = QUERY_TIMES) -> pl.DataFrame:
    """Query durations in this process since it started.

    Grain: one row per query name. Columns: query, calls (since start), p50_ms, p95_ms and
    max_ms over the last WINDOW runs (milliseconds, engine time including the fetch).
    """
    return recorder.summary()
