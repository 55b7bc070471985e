"""Exports of what a page shows, each row carrying its evidence (DESIGN §6): source row
ids, dataset versions and source dates, official or computed basis with its non-detect rule
and NAL table, and the link that reproduces the view."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import polars as pl
import streamlit as st

from pages._shared import count, versions, view_url


def with_evidence(
    frame: pl.DataFrame,
    dataset: str | None,
    source_id: str | pl.Expr,
    computed: tuple[str, str] | None = None,
    basis: str | None = None,
    also: Sequence[str] = (),
) -> pl.DataFrame:
    """The frame plus the same `evidence_*` columns on every export.

    evidence_source_dataset and evidence_source_id (the row id in that dataset),
    evidence_dataset_version and evidence_source_date (from the store's status),
    evidence_basis ('official record' or 'computed screening'), evidence_nd_rule and
    evidence_nal_table (for computed rows, when `computed` = (nd_rule, nal_version)),
    and evidence_view_url, the link that reproduces the view. `dataset` None reads
    each row's `source_dataset` column; a frame with an `official` column mixes both
    bases row by row; `basis` names it for rows that carry both kinds of figure.
    `also` lists other datasets the figures were computed from: their versions and
    source dates go in evidence_also_versions.
    """
    rows = versions()
    ds = pl.lit(dataset, pl.String) if dataset else pl.col("source_dataset")
    ident = pl.col(source_id) if isinstance(source_id, str) else source_id

    def lookup(field: str) -> pl.Expr:
        mapping = {k: str(v.get(field)) if v.get(field) else None for k, v in rows.items()}
        return ds.replace_strict(mapping, default=None, return_dtype=pl.String)

    if "official" in frame.columns:
        is_computed = ~pl.col("official").fill_null(False)
    else:
        is_computed = pl.lit(computed is not None)
    nd_rule, nal = computed or (None, None)
    return frame.with_columns(
        ds.alias("evidence_source_dataset"),
        ident.cast(pl.String).alias("evidence_source_id"),
        lookup("version").alias("evidence_dataset_version"),
        lookup("source_modified").alias("evidence_source_date"),
        (
            pl.lit(basis)
            if basis
            else pl.when(is_computed)
            .then(pl.lit("computed screening"))
            .otherwise(pl.lit("official record"))
        ).alias("evidence_basis"),
        pl.when(is_computed).then(pl.lit(nd_rule, pl.String)).alias("evidence_nd_rule"),
        pl.when(is_computed).then(pl.lit(nal, pl.String)).alias("evidence_nal_table"),
        pl.lit(
            "; ".join(
                f"{name} {rows.get(name, {}).get('version')} "
                f"(source {rows.get(name, {}).get('source_modified')})"
                for name in also
            )
            or None,
            pl.String,
        ).alias("evidence_also_versions"),
        pl.lit(view_url()).alias("evidence_view_url"),
    )


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become '; '-joined text so the CSV holds every value."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c in lists)


def export_buttons(frame: pl.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet downloads of `frame` (already carrying its evidence columns)."""
    stamp = dt.date.today().isoformat()

    def csv() -> bytes:
        return _flat(frame).write_csv().encode("utf-8")

    def parquet() -> bytes:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()

    left, right, note = st.columns([1, 1, 4], vertical_alignment="center")
    left.download_button(
        "CSV",
        csv,
        f"{name}_{stamp}.csv",
        "text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Parquet",
        parquet,
        f"{name}_{stamp}.parquet",
        "application/vnd.apache.parquet",
        key=f"{key}_parquet",
        icon=":material/download:",
        on_click="ignore",
    )
    note.caption(
        f"{count(frame.height)} rows, with `evidence_*` columns: source row ids, "
        "dataset versions and source dates, basis (official or computed, with its ND rule "
        "and NAL table), and the link to this view."
    )
