"""The `advocacy` command line.

Exit status: 0 on success, 2 on a user error (bad input or config: one clear message,
no traceback), 1 on an internal failure.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated

import mlflow
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from features.availability import FAMILY_SOURCES, available_families, left_out
from features.build import write_features
from features.clock import as_utc
from features.contracts import CONTRACTS
from features.errors import UserError
from features.generator import Messiness, generate_world
from features.ingest import IngestReport, TableReport, check_source, ingest
from features.store import current_version, partition_count, present_sources
from models.model_registry import promote
from models.outreach.evaluate import Evaluation, evaluate_outreach, resolve_run
from models.outreach.plan import plan_from_run
from models.outreach.record import log_evaluation, log_uplift, write_evaluation
from models.outreach.uplift import UpliftResult, train_uplift
from models.scoring.files import MANIFEST, run_order
from models.scoring.monitoring import recent_runs
from models.scoring.run import check_request
from models.scoring.segments import SegmentSettings, unapplied_groups
from models.tracking import configure_tracking
from models.training.history import recent_training_runs
from models.training.record import ModelQualityError, TrainingRun
from pipelines.config import chosen_config, load_config, train_with_config, with_overrides

app = typer.Typer(
    name="advocacy",
    help="Find the customers most likely to become brand advocates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

StoreOption = Annotated[Path | None, typer.Option(help="Curated store folder.")]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="YAML file of the keys to change, merged over configs/advocacy.yaml "
        "(default: the file named by ADVOCACY_CONFIG); configs/local.yaml, if present, "
        "is merged last.",
    ),
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
    outreach: Annotated[
        Path | None,
        typer.Option(help="Plan of contacts to replay (`advocacy plan-outreach` writes one)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a generated customer world (six input tables + ground truth)."""
    messiness = Messiness(**dict.fromkeys(Messiness.model_fields, messy)) if messy else None
    settings = with_overrides(
        load_config(config).generate,
        customers=customers,
        seed=seed,
        out=out,
        format=file_format,
        messiness=messiness,
        outreach=outreach,
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
    source: Annotated[Path | None, typer.Option(help="Folder with the input tables.")] = None,
    store: StoreOption = None,
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


@app.command(name="check-source")
def check_source_command(
    source: Annotated[Path | None, typer.Option(help="Folder with the input tables.")] = None,
    config: ConfigOption = None,
) -> None:
    """Read and validate the input tables as `ingest` would, without publishing a store.

    Exit status 0 when a store can be built from them, 2 (with the reason) when not.
    """
    settings = load_config(config)
    with console.status("Validating input tables (dry run)"):
        reports = check_source(with_overrides(settings.ingest, source=source))
    print_source_check(reports, settings.scoring.segments)


def print_left_out(present: dict[str, list[str]]) -> None:
    """The features left out for lack of data, by what the source lacks."""
    for what, names in left_out(present).items():
        console.print(f"Left out for lack of {what}: {', '.join(names)}", highlight=False)


def print_unapplied(groups: list[str], why: str) -> None:
    """Segment and program conditions that are not applied, one per line."""
    if groups:
        console.print(f"Segment conditions that {why}:")
        for group in groups:
            console.print(f"  {group}", highlight=False)


def print_source_check(reports: list[TableReport], segments: SegmentSettings) -> None:
    """Rows kept and quarantined, what the source lacks, and what that leaves for scoring."""
    table = Table("table", "files", "read", "kept", "quarantined", "by rule")
    for t in reports:
        table.add_row(
            t.table,
            f"{len(t.files):,}" if t.files else "absent",
            f"{t.rows_read:,}",
            f"{t.rows_kept:,}",
            f"{t.rows_quarantined:,}",
            ", ".join(f"{rule} {n:,}" for rule, n in t.quarantined_by_rule.items()) or "-",
        )
    console.print(table)
    present = {t.table: t.columns for t in reports if t.files}
    absent_columns = [
        f"{name}.{c.name}"
        for name, columns in present.items()
        for c in CONTRACTS[name].columns
        if c.name not in columns
    ]
    families = available_families(present)
    lacking = [family for family in FAMILY_SOURCES if family not in families]
    console.print(f"Absent tables: {', '.join(t.table for t in reports if not t.files) or 'none'}")
    console.print(f"Absent optional columns: {', '.join(absent_columns) or 'none'}")
    console.print(f"Feature families available: {', '.join(families)}")
    console.print(f"Not available (no source data): {', '.join(lacking) or 'none'}")
    print_left_out(present)
    print_unapplied(unapplied_groups(segments, present), "cannot hold without that data")
    console.print("A store can be built from this source (dry run: nothing was written).")


@app.command(name="features")
def features_command(
    store: StoreOption = None,
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
    """Write the point-in-time feature table of the eligible customers for one cutoff.

    A store written in customer partitions is built partition by partition on Dask when
    `scoring.task_runner` is dask; otherwise the whole store at once, on this machine.
    """
    settings = load_config(config)
    settings = settings.model_copy(update={"ingest": with_overrides(settings.ingest, store=store)})
    cutoff = as_utc(as_of)
    out = out or settings.features.out / f"features_{cutoff:%Y-%m-%dT%H%M}.parquet"
    with console.status(f"Building features as of {cutoff}"):
        version = current_version(settings.ingest.store)
        if partition_count(version) > 1 and settings.scoring.task_runner == "dask":
            from pipelines.flows import prefect_api, run_features_flow

            with prefect_api(settings.prefect):
                table = pd.read_parquet(run_features_flow(settings, cutoff, out))
        else:
            table = write_features(version, cutoff, out, settings.features)
    console.print(
        f"{len(table):,} customers x {table.shape[1] - 2} features as of {cutoff} -> {out}"
    )
    print_left_out(present_sources(version))


@app.command()
def train(
    store: StoreOption = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Ground truth of a generated world, for oracle metrics."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Train, evaluate against baselines, log to MLflow and register the model."""
    settings = load_config(config)
    settings = settings.model_copy(
        update={
            "ingest": with_overrides(settings.ingest, store=store),
            "train": with_overrides(settings.train, truth=truth),
        }
    )
    with console.status("Building the training set and training"):
        run = train_with_config(settings)
    print_training_run(run)


def print_training_run(run: TrainingRun) -> None:
    """The registry decision, the model's sources and family, and the tracking store."""
    console.print(f"MLflow run {run.run_id}: model version {run.version} -> {run.decision.alias}")
    console.print(f"  {run.decision.reason}")
    console.print(f"  sources: {run.sources}", highlight=False)
    console.print(f"  model family: {run.family}", highlight=False)
    console.print(f"  tracking store: {mlflow.get_tracking_uri()}")


@app.command(name="promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="Registered model version to make champion.")],
    config: ConfigOption = None,
) -> None:
    """Make a registered model version the champion, overriding the automatic decision."""
    configure_tracking(load_config(config).tracking)
    console.print(promote(version))


@app.command()
def status(
    runs: Annotated[int, typer.Option(min=1, help="How many runs of each kind to show.")] = 5,
    out: Annotated[Path | None, typer.Option(help="Folder of the scoring runs.")] = None,
    config: ConfigOption = None,
) -> None:
    """The last scoring and training runs, with what was flagged in them."""
    settings = load_config(config)
    root = out or settings.scoring.out
    scoring = Table(
        Column("run", overflow="fold"),
        "as of",
        "model",
        "customers",
        Column("flags", overflow="fold"),
        title=f"Scoring runs in {root}",
    )
    for folder, manifest in recent_runs(root, runs):
        compared = manifest.get("monitoring", {}).get("previous_run") is not None
        scoring.add_row(
            folder.name,
            f"{pd.Timestamp(manifest['as_of']):%Y-%m-%d %H:%M}",
            f"v{manifest['model_version']}",
            f"{manifest['customers']:,}",
            "\n".join(manifest.get("flags", []))
            or ("-" if compared else "not compared: no earlier run of this model"),
        )
    console.print(scoring)
    configure_tracking(settings.tracking)
    training = Table(
        "started (UTC)",
        "run",
        "version",
        "alias",
        "PR-AUC",
        "flags",
        title=f"Training runs in MLflow experiment {settings.tracking.experiment}",
    )
    for run in recent_training_runs(settings.tracking.experiment, runs):
        training.add_row(
            f"{run.started:%Y-%m-%d %H:%M}",
            run.run_id[:8],
            run.version or "-",
            ", ".join(run.aliases) or "-",
            f"{run.pr_auc:.4f}" if run.pr_auc is not None else "-",
            "\n".join(run.flags) or "-",
        )
    console.print(training)


@app.command()
def score(
    store: StoreOption = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Score as of this moment [default: now].")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for scoring runs.")] = None,
    model_version: Annotated[
        str | None,
        typer.Option(help="Registry alias or version to score with [default: champion]."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Score every eligible customer into a ranked list with segments and reasons."""
    from pipelines.flows import prefect_api, run_score_flow

    settings = load_config(config)
    settings = settings.model_copy(
        update={
            "ingest": with_overrides(settings.ingest, store=store),
            "scoring": with_overrides(settings.scoring, out=out, model=model_version),
        }
    )
    configure_tracking(settings.tracking)
    cutoff = as_utc(as_of)
    # Refuse an impossible request here, before the flow starts and logs it as a crash;
    # the flow resolves the same store version and model again (the model is cached).
    check_request(
        current_version(settings.ingest.store), cutoff, settings.scoring.model, settings.scoring
    )
    with prefect_api(settings.prefect):
        folder = run_score_flow(settings, cutoff)
    print_scoring_run(folder)


def print_scoring_run(folder: Path, rows: int = 10) -> None:
    """The top of the list, the segment counts, and where the files are."""
    manifest = json.loads((folder / MANIFEST).read_text())
    ranked = pd.read_parquet(folder / "ranked_list.parquet").head(rows)
    uplift = "uplift" in ranked.columns
    top = Table(
        "rank",
        "customer",
        "probability",
        *(["uplift", "expected value"] if uplift else []),
        "segment",
        "program",
        "first reason",
        title=f"Top {rows} advocates as of {manifest['as_of']} "
        f"(model version {manifest['model_version']}, by {run_order(manifest)})",
    )
    for row in ranked.itertuples():
        top.add_row(
            str(row.rank),
            row.customer_id,
            f"{row.probability:.3f}",
            *([f"{row.uplift:+.3f}", f"{row.expected_value:+,.2f}"] if uplift else []),
            row.segment,
            row.suggested_program,
            row.reason_1,
        )
    console.print(top)
    note = manifest.get("order", {}).get("note")
    if note:
        console.print(note, highlight=False)
    counts = Table("segment", "customers", "contactable")
    for name, numbers in manifest["segments"].items():
        counts.add_row(name, f"{numbers['customers']:,}", f"{numbers['contactable']:,}")
    console.print(counts)
    print_unapplied(
        manifest["segment_conditions_not_applied"], "were not applied, for lack of data"
    )
    console.print(f"Ranked list (Parquet, CSV, XLSX), segment files and report.html in {folder}")


RunArgument = Annotated[
    str, typer.Argument(help="Scoring run: its folder, its name in scoring.out, or latest.")
]


@app.command(name="plan-outreach")
def plan_outreach(
    run: RunArgument = "latest",
    out: Annotated[Path, typer.Option(help="Plan file to write (.parquet or .csv).")] = Path(
        "data/outreach-plan.parquet"
    ),
    config: ConfigOption = None,
) -> None:
    """Simulate sending a run's outreach: its measured segments' contacts, as a plan.

    For generated worlds: `advocacy generate --outreach PLAN` replays the plan, with the
    generator's true effect of being asked, and `advocacy evaluate-outreach` measures it.
    """
    settings = load_config(config)
    folder = resolve_run(settings.scoring.out, run)
    ranked = pd.read_parquet(folder / "ranked_list.parquet")
    segments = list(json.loads((folder / MANIFEST).read_text())["control"]["segments"])
    plan = plan_from_run(ranked, segments, settings.outreach.contact_cost)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        plan.to_csv(out, index=False)
    else:
        plan.to_parquet(out, index=False)
    console.print(f"{len(plan):,} contacts of {', '.join(segments)} -> {out}")


@app.command(name="evaluate-outreach")
def evaluate_outreach_command(
    run: RunArgument = "latest", store: StoreOption = None, config: ConfigOption = None
) -> None:
    """Measure what a run's outreach did, once its horizon has passed.

    Per measured segment and program: advocacy of the asked against the control group,
    incremental advocates with a 95 % interval, cost per incremental advocate and ROI.
    Written to the run's evaluation/ folder (shown on the web page) and logged to MLflow.
    """
    settings = load_config(config)
    folder = resolve_run(settings.scoring.out, run)
    version = current_version(store or settings.ingest.store)
    evaluation = evaluate_outreach(folder, version, settings.label, settings.outreach)
    written = write_evaluation(folder, evaluation)
    configure_tracking(settings.tracking)
    run_id = log_evaluation(evaluation, written)
    print_evaluation(evaluation)
    console.print(f"Report: {written / 'outreach.html'}; MLflow run {run_id}")


def print_evaluation(evaluation: Evaluation) -> None:
    """Lift and ROI per segment and program."""
    table = Table(
        "segment",
        "program",
        "asked",
        "control",
        "advocated asked / control",
        "incremental advocates (95 %)",
        "cost",
        "ROI",
        title=f"What the outreach of run {evaluation.summary['run']} did",
    )
    for row in evaluation.results.itertuples():
        table.add_row(
            row.segment,
            row.program,
            f"{row.asked:,}",
            f"{row.control:,}",
            f"{row.asked_rate:.1%} / {row.control_rate:.1%}",
            f"{row.incremental_advocates:+.1f} ({row.incremental_low:+.1f} to "
            f"{row.incremental_high:+.1f})",
            f"{row.cost:,.2f}",
            "-" if pd.isna(row.roi) else f"{row.roi:+.0%}",
        )
    console.print(table)


@app.command(name="train-uplift")
def train_uplift_command(
    store: StoreOption = None,
    scores: Annotated[Path | None, typer.Option(help="Folder of scoring runs.")] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="truth/outreach_effect.parquet of a generated world: Qini against true effects."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Train the uplift model on past runs' control groups, judge it on the newest run.

    Logs the Qini curves to MLflow and registers the model as advocacy-uplift@champion,
    which `advocacy score` uses for the uplift columns and `scoring.order_by`.
    """
    settings = load_config(config)
    configure_tracking(settings.tracking)
    with console.status("Building the experiments' rows and training the uplift model"):
        result = train_uplift(
            scores or settings.scoring.out,
            current_version(store or settings.ingest.store),
            settings.label,
            settings.outreach,
            settings.features,
            settings.uplift,
            truth,
        )
        version = log_uplift(result, settings.uplift)
    print_uplift(result, version)


def print_uplift(result: UpliftResult, version: str) -> None:
    """What the model learned from, and its Qini on the later run."""
    metrics = result.metrics
    console.print(
        f"Uplift model version {version} -> champion: learned from {len(result.training_runs)} "
        f"run(s) ({metrics['training_customers']:,.0f} customers), judged on the run of "
        f"{result.evaluation_as_of:%Y-%m-%d} ({metrics['customers']:,.0f} customers)",
        highlight=False,
    )
    console.print(
        f"  Qini observed: uplift model {metrics['qini_observed']:+.4f}, "
        f"propensity {metrics['qini_observed_propensity']:+.4f}",
        highlight=False,
    )
    if "qini_true" in metrics:
        console.print(
            f"  Qini against the true effects: uplift model {metrics['qini_true_share']:.0%} "
            f"of the best ranking's, propensity {metrics['qini_true_share_propensity']:.0%}",
            highlight=False,
        )
    console.print(f"  tracking store: {mlflow.get_tracking_uri()}")


@app.command()
def schedule(
    score_cron: Annotated[
        str | None,
        typer.Option(
            "--score-cron",
            "--cron",
            help='When to score, e.g. "0 6 * * 1" (Mondays 06:00); default: schedule.score_cron.',
        ),
    ] = None,
    train_cron: Annotated[
        str | None,
        typer.Option(
            help='When to retrain, e.g. "0 3 1 * *" (the 1st at 03:00); '
            "default: schedule.train_cron."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Score and retrain on a schedule: serve both flows to a Prefect server until stopped.

    Start a server first (`prefect server start`) and set PREFECT_API_URL; the
    temporary local API of a plain run cannot hold schedules. Each run reads the
    configuration when it starts, relative paths from the folder this command runs in.
    """
    from pipelines.flows import serve_deployments

    times = with_overrides(
        load_config(config).schedule, score_cron=score_cron, train_cron=train_cron
    )
    chosen = chosen_config(config)
    serve_deployments(times, chosen.resolve() if chosen else None, Path.cwd())


@app.command()
def demo(config: ConfigOption = None) -> None:
    """Generate a sample world and run the whole pipeline on it."""
    from pipelines.flows import demo_flow, prefect_api

    settings = load_config(config)
    configure_tracking(settings.tracking)
    with prefect_api(settings.prefect):
        folder = demo_flow(settings)
    print_scoring_run(folder)
    console.print("Web page: run `.venv/bin/advocacy serve` and open http://127.0.0.1:8000")


ScoresOption = Annotated[
    Path | None,
    typer.Option("--scores", help="Folder of scoring runs (default: scoring.out of the config)."),
]


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback requires a login.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    require_login: Annotated[
        bool, typer.Option(help="Require a login on loopback too (e.g. behind a proxy).")
    ] = False,
    scores: ScoresOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the web page over the scoring runs: filter, download, look at customers."""
    from pipelines.web.app import WebSettings
    from pipelines.web.app import serve as serve_web

    settings = load_config(config).scoring
    serve_web(
        WebSettings(
            scores=scores or settings.out,
            segments=settings.segments,
            host=host,
            port=port,
            require_login=require_login,
        )
    )


users_app = typer.Typer(help="Users of the web page (`advocacy serve`).", no_args_is_help=True)
app.add_typer(users_app, name="users")


def read_password() -> str:
    """A new password: typed twice at a prompt, or the first line of standard input."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command(name="add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    scores: ScoresOption = None,
    config: ConfigOption = None,
) -> None:
    """Add a user (or set a new password); the password is read from a prompt or stdin."""
    from pipelines.web.access import USERS_FILE, add_user

    path = (scores or load_config(config).scoring.out) / USERS_FILE
    new = add_user(path, name, read_password())
    console.print(f"{'Added user' if new else 'New password for'} {name} in {path}")


@users_app.command(name="remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")],
    scores: ScoresOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove a user; their sessions end at their next request."""
    from pipelines.web.access import USERS_FILE, remove_user

    path = (scores or load_config(config).scoring.out) / USERS_FILE
    remove_user(path, name)
    console.print(f"Removed user {name} from {path}")


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
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        return 2
    except ModelQualityError as error:
        errors.print(f"[bold red]model rejected:[/] {error}", highlight=False, soft_wrap=True)
        return 1
    except Exception:
        errors.print("[bold red]internal error[/] (please report it with the text below):")
        errors.print(traceback.format_exc(), highlight=False, markup=False)
        return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
