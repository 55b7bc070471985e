"""Stormwater Watch · SMARTS integration — command line.

Every command is a thin skin over a library function; its docstring is its --help.
Errors the product expects are one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from data_layer.datasets import DATASET_NAMES
from data_layer.errors import StormwaterError
from data_layer.settings import Settings
from data_layer.store import Store, store_at
from ops.exit_codes import ExitCode, code_for_error, describe
from ops.log_format import configure_logging

if TYPE_CHECKING:
    from loaders.refresh import RefreshOptions
    from ops.nightly import Report

log = logging.getLogger("cli")


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the product's named errors into one line on stderr and their exit code (mostly 1)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StormwaterError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = code_for_error(exc)
            raise error from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Debug logging (SQL, timings).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Load California's SMARTS stormwater exports into a versioned Parquet store and query it.

    Configuration comes from environment variables (see README); the store lives in
    $STORMWATER_STORE (default ./parquet_store).
    """
    try:
        ctx.obj = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    configure_logging(verbose, ctx.obj.log_format)


def _store(ctx: click.Context) -> Store:
    return store_at(ctx.obj.store)


@cli.command("demo-source")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the CSVs, package.json and _truth/ into.",
)
@click.option(
    "--scale",
    default=0.01,
    show_default=True,
    type=float,
    help="1 is full size (~8.5M rows, ~1.15 GB).",
)
@click.option("--seed", default=42, show_default=True, type=int, help="Same seed, same bytes.")
@click.pass_context
@friendly_errors
def demo_source(ctx: click.Context, out: Path, scale: float, seed: int) -> None:
    """Write a realistic, linked sample of all SMARTS exports and eSMR years.

    Use it to try the product without the portal, and in tests and benchmarks.

    Example: python cli.py demo-source --out demo_source --scale 0.01
    """
    from loaders.demo_source import write_demo_source

    reference = ctx.obj.reference if ctx.obj.reference.is_dir() else None
    counts = write_demo_source(
        out, scale=scale, seed=seed, reference=reference, esmr_years=ctx.obj.esmr_years
    )
    for name, rows in counts.items():
        click.echo(f"{name}\t{rows:,} rows")


def _refresh_options(
    settings: Settings, source: str | None, datasets: tuple[str, ...], force: bool
) -> RefreshOptions:
    from loaders.refresh import RefreshOptions

    return RefreshOptions(
        source=source or settings.ckan_url,
        datasets=list(datasets),
        force=force,
        esmr_years=settings.esmr_years,
        reject_threshold=settings.reject_threshold,
        memory_limit=settings.memory_limit,
    )


def _finish(ctx: click.Context, report: Report) -> None:
    """Alert if the run calls for it, say why it failed in one line, exit with its code."""
    from ops.alerts import AlertConfig, notify

    notify(AlertConfig.from_settings(ctx.obj), report)
    failed = report.failed_step
    if failed is not None:
        click.echo(f"Error: {' '.join((failed.error or failed.summary).split())}", err=True)
    if report.code != ExitCode.UPDATED:
        ctx.exit(int(report.code))


#: The exit-code table under the help of the unattended commands (kept as typed: \b).
EXIT_CODES_HELP = "\b\nExit codes:\n" + describe()


_SOURCE_OPTION = click.option(
    "--source",
    default=None,
    help="A directory of exports, or a CKAN base URL (default $STORMWATER_CKAN_URL).",
)
_DATASET_OPTION = click.option(
    "--dataset",
    "datasets",
    multiple=True,
    type=click.Choice(DATASET_NAMES),
    help="Only this dataset (repeatable). Default: all.",
)
_FORCE_OPTION = click.option(
    "--force", is_flag=True, help="Reload even if the source is unchanged."
)


@cli.command(epilog=EXIT_CODES_HELP)
@_SOURCE_OPTION
@_DATASET_OPTION
@_FORCE_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dataset on stdout.")
@click.pass_context
@friendly_errors
def refresh(
    ctx: click.Context, source: str | None, datasets: tuple[str, ...], force: bool, as_json: bool
) -> None:
    """Discover, download, validate and publish datasets into the store.

    Unchanged sources are skipped unless --force; a dataset that fails keeps serving its
    previous version. Holds a lock: a second concurrent refresh exits at once. The exit code
    tells a scheduler what happened (below); failures send an alert when one is configured.

    Example: python cli.py refresh --source demo_source --dataset violations
    """
    from ops.nightly import Report
    from ops.steps import refresh_step

    step = refresh_step(_store(ctx), _refresh_options(ctx.obj, source, datasets, force))
    for out in step.details:
        if as_json:
            click.echo(json.dumps(out, default=str))
            continue
        line = f"{out['dataset']}: {out['outcome']}"
        if out["error"] is None:
            line += (
                f" (version {out['version']}, {out['rows_out']:,} rows, {out['rejects']:,} rejects)"
            )
        click.echo(line if out["error"] is None else f"{line} — {out['error']}")
    _finish(ctx, Report("refresh", [step]))


@cli.command(epilog=EXIT_CODES_HELP)
@_SOURCE_OPTION
@_FORCE_OPTION
@click.option(
    "--pg", "pg_url", default=None, help="PostgreSQL URL to sync to (default $STORMWATER_PG_URL)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per step on stdout.")
@click.pass_context
@friendly_errors
def nightly(
    ctx: click.Context, source: str | None, force: bool, pg_url: str | None, as_json: bool
) -> None:
    """Run the scheduled chain: refresh, then match, then sync to PostgreSQL.

    Matching runs when ENABLE_FACILITY_MATCHING is on, sync when a PostgreSQL URL is set; the
    chain stops at the first failed step, leaving store and databases consistent. Prints one
    line (or JSON object) per step, alerts on failure, and exits with the refresh's codes.

    Example: python cli.py nightly --source demo_source
    """
    from ops.nightly import NightlyPlan, run_nightly

    settings: Settings = ctx.obj
    plan = NightlyPlan(
        refresh=_refresh_options(settings, source, (), force),
        match=settings.flags.get("ENABLE_FACILITY_MATCHING", True),
        state_url=settings.state_url,
        pg_url=pg_url or settings.pg_url,
    )
    report = run_nightly(
        _store(ctx),
        plan,
        on_step=lambda step: click.echo(
            json.dumps(step.record(), default=str) if as_json else step.line()
        ),
    )
    _finish(ctx, report)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dataset.")
@click.pass_context
@friendly_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Show each dataset's current version, rows, source date, publish time, rejects and health.

    Example: python cli.py status --json
    """
    from data_layer.status import dataset_status

    for row in dataset_status(_store(ctx)):
        if as_json:
            click.echo(json.dumps(row, default=str))
        else:
            click.echo(
                f"{row['dataset']:<24} {row['health']:<9} {row['version'] or '-':<30}"
                f" {row['rows'] if row['rows'] is not None else '-':>10} rows"
                f"  rejects {row['rejects'] if row['rejects'] is not None else '-'}"
                f"  source {row['source_modified'] or '-'}  published {row['published_at'] or '-'}"
            )


@cli.command()
@click.argument("dataset", metavar="DATASET", type=click.Choice(DATASET_NAMES))
@click.pass_context
@friendly_errors
def rollback(ctx: click.Context, dataset: str) -> None:
    """Republish the previous version of DATASET atomically.

    Use it when a new export turns out wrong; the next refresh publishes afresh.

    Example: python cli.py rollback violations
    """
    from loaders.lock import refresh_lock
    from loaders.publish import rollback as run_rollback

    store = _store(ctx)
    store.require_version(dataset)
    with refresh_lock(store.lock_path):
        old, new = run_rollback(store, dataset)
    click.echo(f"{dataset}: rolled back from {old} to {new}")


@cli.command()
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=float,
    help="Size of the generated source the benchmarks run on.",
)
@click.option("--only", default=None, help="Run only benchmarks whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--repeat", default=3, show_default=True, type=int, help="Runs per measurement.")
@click.option(
    "--workdir",
    default="bench_data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where generated sources and stores are kept between runs.",
)
@click.pass_context
@friendly_errors
def bench(
    ctx: click.Context, scale: float, only: str | None, as_json: bool, repeat: int, workdir: Path
) -> None:
    """Measure refresh speed, memory and store size against DuckDB's bare CSV→Parquet copy.

    Builds the source at --scale if needed; reports medians and ratios (DESIGN §9).

    Example: python cli.py bench --scale 0.1 --only refresh
    """
    from bench.runner import run_benchmarks

    for result in run_benchmarks(workdir, scale=scale, only=only, repeat=repeat, settings=ctx.obj):
        if as_json:
            click.echo(json.dumps(result))
        else:
            ratio = f"{result['ratio']:.2f}x" if result["ratio"] is not None else "-"
            base = result["baseline"] if result["baseline"] is not None else "-"
            click.echo(
                f"{result['name']:<44} {result['value']:>12} {result['unit']:<6}"
                f" baseline {base:>10}  ratio {ratio}"
            )


@cli.command()
@click.option(
    "--threshold-auto",
    "auto",
    default=None,
    type=click.FloatRange(0, 1),
    help="Auto-link pairs scoring at or above this (default 0.92).",
)
@click.option(
    "--threshold-review",
    "review",
    default=None,
    type=click.FloatRange(0, 1),
    help="Queue pairs scoring at or above this for review (default 0.60).",
)
@click.pass_context
@friendly_errors
def match(ctx: click.Context, auto: float | None, review: float | None) -> None:
    """Score SMARTS ↔ eSMR facility pairs, auto-link the sure ones, queue the rest for review.

    Run after a refresh; re-running is safe: a human decision is never overridden or lost.

    Example: python cli.py match --threshold-auto 0.95 --threshold-review 0.6
    """
    from data_layer.connection import open_store
    from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
    from matching.state import open_state
    from matching.store_match import match_store

    settings: Settings = ctx.obj
    store = open_store(settings.store, settings.memory_limit)
    engine = open_state(settings.state_url)
    try:
        summary = match_store(
            store.cursor(),
            engine,
            auto=DEFAULT_AUTO_THRESHOLD if auto is None else auto,
            review=DEFAULT_REVIEW_THRESHOLD if review is None else review,
            pg_url=settings.pg_url,
        )
    finally:
        store.close()
        engine.dispose()
    click.echo(summary.line())


@cli.command("hash-password")
@friendly_errors
def hash_password() -> None:
    """Print a salted hash of a reviewer's password, to configure who may decide matches.

    Put `name:HASH` in $STORMWATER_REVIEWERS (comma-separated) or `name = "HASH"` under
    `[reviewers]` in .streamlit/secrets.toml. Asks twice; the password is never stored.

    Example: python cli.py hash-password
    """
    from matching.auth import hash_password as make_hash

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    click.echo(make_hash(password))


@cli.command()
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write (default: stdout).",
)
@click.pass_context
@friendly_errors
def links(ctx: click.Context, out: Path | None) -> None:
    """Write the current SMARTS ↔ eSMR link set as CSV.

    Columns wdid,app_id,facility_place_id,method,score,status (method auto/manual,
    status linked/queued/rejected), derived from the last match run and every decision.

    Example: python cli.py links --out links.csv
    """
    from matching.links import export_links
    from matching.state import open_state

    frame = export_links(open_state(ctx.obj.state_url))
    if out is None:
        click.echo(frame.write_csv(), nl=False)
    else:
        frame.write_csv(out)
        click.echo(f"{frame.height:,} links written to {out}")


_PG_OPTION = click.option(
    "--pg",
    "pg_url",
    default=None,
    metavar="URL",
    help="PostgreSQL URL (default $STORMWATER_PG_URL; keep passwords in the environment).",
)


def _pg(ctx: click.Context, pg_url: str | None) -> str:
    url = pg_url or ctx.obj.pg_url
    if not url:
        raise click.ClickException("No PostgreSQL given — pass --pg URL or set STORMWATER_PG_URL.")
    return url


@cli.command()
@_PG_OPTION
@click.option("--downgrade", is_flag=True, help="Remove everything the migration added.")
@click.pass_context
@friendly_errors
def migrate(ctx: click.Context, pg_url: str | None, downgrade: bool) -> None:
    """Add the SMARTS tables, indexes and link_method enum to the platform's PostgreSQL.

    Leaves the platform's tables alone; running it again does nothing; --downgrade removes only
    what it added. Back up first: docs/POSTGRES_RUNBOOK.md.

    Example: python cli.py migrate --pg postgresql://stormwater@db.internal/platform
    """
    from data_layer.pg.migrate import migrate as run_migrate
    from data_layer.pg.urls import redact

    url = _pg(ctx, pg_url)
    result = run_migrate(url, downgrade=downgrade)
    where = redact(url)
    if not result.changed:
        click.echo(f"{where}: already at {result.after or 'no SMARTS tables'}; nothing to do")
    else:
        click.echo(f"{where}: migrated from {result.before or 'none'} to {result.after or 'none'}")


@cli.command()
@_PG_OPTION
@click.option("--full", is_flag=True, help="Rebuild every table instead of writing the changes.")
@click.pass_context
@friendly_errors
def sync(ctx: click.Context, pg_url: str | None, full: bool) -> None:
    """Bring the SMARTS tables in PostgreSQL in line with the store and the link decisions.

    Writes only what changed since the last sync (--full rebuilds every table), in one
    transaction: readers see the old data or the new, never a mix. Run migrate first.

    Example: python cli.py sync --pg postgresql://stormwater@db.internal/platform
    """
    from data_layer.connection import open_store
    from data_layer.pg.sync import sync as run_sync
    from loaders.progress import Progress

    settings: Settings = ctx.obj
    url = _pg(ctx, pg_url)
    links = None
    if settings.flags.get("ENABLE_FACILITY_MATCHING", True):
        from matching.links import current_links
        from matching.state import open_state

        links = current_links(open_state(settings.state_url))
    report = run_sync(
        open_store(settings.store, settings.memory_limit),
        url,
        links=links,
        full=full,
        progress=lambda label, total: Progress(label, total, unit="rows"),
    )
    click.echo(report.line())


if __name__ == "__main__":
    cli()
