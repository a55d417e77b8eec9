"""The `advocacy` command line.

Exit status: 0 on success, 2 on a user error (bad input or config: one clear message,
no traceback), 1 on an internal failure.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from features.build import write_features
from features.clock import as_utc
from features.errors import UserError
from features.generator import Messiness, generate_world
from features.ingest import IngestReport, ingest
from pipelines.config import load_config, with_overrides

app = typer.Typer(
    name="advocacy",
    help="Find the customers most likely to become brand advocates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="YAML config file [default: configs/advocacy.yaml]."),
]


@app.command()
def generate(
    customers: Annotated[int | None, typer.Option(help="Number of customers.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same seed, same files.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder to write the world to.")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="parquet or csv.")] = None,
    messy: Annotated[
        float | None,
        typer.Option(help="Share of bad rows of every kind (duplicates, bad dates, ...)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a generated customer world (five input tables + ground truth)."""
    messiness = Messiness(**dict.fromkeys(Messiness.model_fields, messy)) if messy else None
    settings = with_overrides(
        load_config(config).generate,
        customers=customers,
        seed=seed,
        out=out,
        format=file_format,
        messiness=messiness,
    )
    with _progress() as progress:
        bar = progress.add_task("Generating customers", total=settings.customers)
        summary = generate_world(
            settings, settings.out, progress=lambda n: progress.advance(bar, n)
        )
    table = Table("table", "rows", title=f"Generated world in {summary.out}")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"Ground truth in {summary.out / 'truth'}; took {summary.seconds:.1f} s.")


@app.command(name="ingest")
def ingest_command(
    source: Annotated[Path | None, typer.Option(help="Folder with the five input tables.")] = None,
    store: Annotated[Path | None, typer.Option(help="Curated store folder.")] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Rows dated after this are quarantined.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Validate the input tables and publish them as the curated store."""
    settings = with_overrides(load_config(config).ingest, source=source, store=store, as_of=as_of)
    with console.status("Validating input tables"):
        report = ingest(settings)
    print_ingest_report(report)


def print_ingest_report(report: IngestReport) -> None:
    """Rows read, kept and quarantined by rule, per table."""
    table = Table("table", "read", "duplicates dropped", "kept", "quarantined", "by rule")
    for t in report.tables:
        rules = ", ".join(f"{rule} {n:,}" for rule, n in t.quarantined_by_rule.items())
        table.add_row(
            t.table,
            f"{t.rows_read:,}",
            f"{t.exact_duplicates_dropped:,}",
            f"{t.rows_kept:,}",
            f"{t.rows_quarantined:,}",
            rules or "-",
        )
    console.print(table)
    console.print(f"Curated store: {report.store_version}")
    if any(t.rows_quarantined for t in report.tables):
        console.print(f"Quarantined rows, with reasons: {report.store_version / 'quarantine'}")


@app.command(name="features")
def features_command(
    store: Annotated[Path | None, typer.Option(help="Curated store folder.")] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Cutoff: only events before it count [default: now].")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Parquet file to write [default: <features.out>/features_<as-of>.parquet]."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the point-in-time feature table of the eligible customers for one cutoff."""
    settings = load_config(config)
    cutoff = as_utc(as_of)
    out = out or settings.features.out / f"features_{cutoff:%Y-%m-%dT%H%M}.parquet"
    with console.status(f"Building features as of {cutoff}"):
        table = write_features(store or settings.ingest.store, cutoff, out, settings.features)
    console.print(
        f"{len(table):,} customers x {table.shape[1] - 2} features as of {cutoff} -> {out}"
    )


@app.command()
def demo(config: ConfigOption = None) -> None:
    """Generate a sample world and run the pipeline on it."""
    from pipelines.flows import demo_flow

    demo_flow(load_config(config))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (callable from tests)."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="advocacy")
    except SystemExit as done:  # usage errors (2) and --help (0), already printed by Typer
        return done.code if isinstance(done.code, int) else 0
    except UserError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2
    except Exception:
        errors.print("[bold red]internal error[/] (please report it with the text below):")
        errors.print(traceback.format_exc(), highlight=False, markup=False)
        return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
