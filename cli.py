"""Stormwater Watch · SMARTS integration — command line.

Every command is a thin skin over a library function; its docstring is its --help.
Errors the product expects are one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from data_layer.datasets import DATASET_NAMES
from data_layer.errors import StormwaterError
from data_layer.settings import Settings
from data_layer.store import Store, store_at

log = logging.getLogger("cli")


def _configure_logging(verbose: bool) -> None:
    """Plain lines on stderr; JSON-friendly enough for cron mail and journald."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the product's named errors into one line on stderr and exit code 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StormwaterError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Debug logging (SQL, timings).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Load California's SMARTS stormwater exports into a versioned Parquet store and query it.

    Configuration comes from environment variables (see README); the store lives in
    $STORMWATER_STORE (default ./parquet_store).
    """
    _configure_logging(verbose)
    ctx.obj = Settings.from_env()


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


@cli.command()
@click.option(
    "--source",
    default=None,
    help="A directory of exports, or a CKAN base URL (default $STORMWATER_CKAN_URL).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    type=click.Choice(DATASET_NAMES),
    help="Only this dataset (repeatable). Default: all.",
)
@click.option("--force", is_flag=True, help="Reload even if the source is unchanged.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dataset on stdout.")
@click.pass_context
@friendly_errors
def refresh(
    ctx: click.Context, source: str | None, datasets: tuple[str, ...], force: bool, as_json: bool
) -> None:
    """Discover, download, validate and publish datasets into the store.

    Unchanged sources are skipped unless --force; a dataset that fails keeps serving its
    previous version. Holds a lock: a second concurrent refresh exits at once.

    Example: python cli.py refresh --source demo_source --dataset violations
    """
    from loaders.refresh import FAILED, RefreshOptions
    from loaders.refresh import refresh as run_refresh

    settings: Settings = ctx.obj
    options = RefreshOptions(
        source=source or settings.ckan_url,
        datasets=list(datasets),
        force=force,
        esmr_years=settings.esmr_years,
        reject_threshold=settings.reject_threshold,
        memory_limit=settings.memory_limit,
    )
    outcomes = run_refresh(_store(ctx), options)
    for out in outcomes:
        if as_json:
            click.echo(json.dumps(out.__dict__, default=str))
        else:
            line = f"{out.dataset}: {out.outcome}"
            if out.outcome != FAILED:
                line += f" (version {out.version}, {out.rows_out:,} rows, {out.rejects:,} rejects)"
            click.echo(line if out.error is None else f"{line} — {out.error}")
    failed = [o for o in outcomes if o.outcome == FAILED]
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(outcomes)} datasets failed: "
            + ", ".join(o.dataset for o in failed)
        )


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


if __name__ == "__main__":
    cli()
