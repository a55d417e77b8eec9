"""The HTML report of a scoring run: one self-contained page that briefs marketing.

It says what the list is for and as of when, how many customers each segment holds, how
many may be contacted and how many are expected to advocate, what each segment and
program means, who is new among the Champions and in "Recover first" since the last
run, the top of the list, and plots in words. It links to the run's files by relative
links, so it works wherever the run folder is copied.

Plots are embedded as images, so the file can be mailed or put on a share as is. The
page comes from the Jinja templates in `templates/` (`report.html` extends the shared
`base.html`); this module only prepares plain text and numbers for them, and the
templates escape every value, so customer data can never inject markup.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib import style
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from features.availability import FEATURE_TABLES
from models.explain import bar_chart, feature_words, impact_figure, legend_above, reason_topics
from models.plot_style import MODEL_COLOR, apply_style
from models.scoring.files import (
    DEFAULT_HORIZON_DAYS,
    list_columns,
    program_meaning,
    run_order,
    segment_meaning,
)
from models.scoring.monitoring import NOT_SCORED
from models.scoring.reasons import REASONS
from models.scoring.segments import SegmentSettings

TOP_ROWS = 20
TOP_COLUMNS = (
    "rank",
    "customer_id",
    "probability",
    "segment",
    "suggested_program",
    *(f"reason_{i}" for i in range(1, REASONS + 1)),
    "contactable",
)
"""Columns of the list shown in the report's table of its top customers."""
NEWCOMER_ROWS = 5
NEWCOMER_COLUMNS = ("rank", "customer_id", "probability", "previous_segment", "contactable")
SEGMENT_COLUMNS = (
    "Segment",
    "Customers",
    "May be contacted",
    "Expected advocates",
    "Suggested programs",
)
TOP_SHARE_OF_REASONS = 0.2
"""The report's reason plot counts the first reasons of this top share of the list."""
FIGURE_SIZE = (4.6, 3.4)
"""Inches: narrow, so that a phone shrinks the plots little."""
REPORT_TEXT: dict[str, Any] = {"font.size": 11, "xtick.labelsize": 10, "ytick.labelsize": 10}
"""Text a little larger than the project's plots (bar labels and ticks), for phones."""
SEGMENT_COLORS = ("#d9822b", "#1f5fa8", "#5b8fd1", "#a3c1e6", "#c4c4c4", "#7a5195", "#2f9e77")
"""In the order of the segment rules: Recover first, Champion, ... Not now by default."""


def date_in_words(moment: pd.Timestamp) -> str:
    """A day as people write it: "1 October 2026"."""
    return f"{moment.day} {moment:%B %Y}"


def segment_colors(names: list[str]) -> dict[str, str]:
    """A colour per segment, in the order of the segment rules."""
    return {name: SEGMENT_COLORS[i % len(SEGMENT_COLORS)] for i, name in enumerate(names)}


def segment_order(ranked: pd.DataFrame, order: list[str] | None) -> list[str]:
    """The segments of `ranked` in `order` (default: as they first appear in the list)."""
    present = list(ranked["segment"].drop_duplicates())
    return [name for name in order if name in present] if order else present


def score_distribution_figure(
    ranked: pd.DataFrame,
    order: list[str] | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Figure:
    """How many customers got which chance, stacked by segment, on linear axes."""
    apply_style()
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    top = float(ranked["probability"].max()) or 1.0
    present = segment_order(ranked, order)
    colors = segment_colors(order or present)
    axes.hist(
        [ranked.loc[ranked["segment"] == name, "probability"].to_numpy() for name in present],
        bins=np.linspace(0, top * 1.001, 26).tolist(),
        stacked=True,
        color=[colors[name] for name in present],
        label=present,
    )
    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    axes.set(
        title="How likely customers are to advocate",
        xlabel=f"chance of advocating in the next {horizon_days} days",
        ylabel="number of customers",
    )
    axes.legend(title="segment")
    return figure


def segment_sizes_figure(ranked: pd.DataFrame, order: list[str] | None = None) -> Figure:
    """Customers per segment, and how many of them may be contacted."""
    apply_style()
    sizes = ranked.groupby("segment")["contactable"].agg(["size", "sum"])
    sizes = sizes.loc[segment_order(ranked, order)].iloc[::-1]
    figure, axes, bar = bar_chart(list(sizes.index))
    positions = np.arange(len(sizes))
    axes.barh(positions, sizes["size"], height=bar, color="#b8c7dc", label="all customers")
    axes.barh(positions, sizes["sum"], height=bar, color=MODEL_COLOR, label="may be contacted")
    axes.set(title="Customers per segment", xlabel="number of customers")
    legend_above(axes)
    return figure


def top_reasons_figure(ranked: pd.DataFrame, top: int = 10) -> Figure:
    """The most frequent strongest reasons in the top of the list, by topic."""
    apply_style()
    head = ranked[ranked["percentile"] > 1 - TOP_SHARE_OF_REASONS]
    topics = reason_topics(head["reason_1"]).dropna().value_counts().head(top).iloc[::-1]
    figure, axes, bar = bar_chart([str(topic) for topic in topics.index])
    axes.barh(np.arange(len(topics)), topics.to_numpy(), height=bar, color=MODEL_COLOR)
    axes.set(
        title=f"Strongest reason, top {TOP_SHARE_OF_REASONS:.0%} of the list",
        xlabel="number of customers",
    )
    return figure


def figure_data_uri(figure: Figure) -> str:
    """The figure as a PNG data URI, so the report needs no files beside it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=160)
    plt.close(figure)
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"


def figure_record(figure: Figure) -> dict[str, str]:
    """What the template needs of a figure: its title as alt text and its image."""
    return {"alt": figure.axes[0].get_title(), "src": figure_data_uri(figure)}


def whole_number(value: float) -> str:
    """A count for people: rounded, with thousands separators."""
    return f"{round(value):,}"


def segment_rows(
    ranked: pd.DataFrame, manifest: dict[str, Any], segments: SegmentSettings
) -> list[dict[str, str]]:
    """One record per segment: customers, contactable, expected advocates, programs.

    Expected advocates are the sum of the segment's probabilities.
    """
    programs = {
        rule.name: ", ".join(choice.program for choice in rule.programs) for rule in segments.rules
    }
    expected = ranked.groupby("segment")["probability"].sum()
    return [
        {
            "Segment": name,
            "Customers": whole_number(counts["customers"]),
            "May be contacted": whole_number(counts["contactable"]),
            "Expected advocates": whole_number(expected.get(name, 0.0)),
            "Suggested programs": programs.get(name, ""),
        }
        for name, counts in manifest["segments"].items()
    ]


def segment_definitions(segments: SegmentSettings) -> list[dict[str, Any]]:
    """What each segment and its programs mean: descriptions, or the rules in words."""
    count = len(segments.rules)
    return [
        {
            "term": rule.name,
            "meaning": rule.description or segment_meaning(rule, order, count),
            "programs": [
                {
                    "term": choice.program,
                    "meaning": choice.description or program_meaning(rule, choice),
                }
                for choice in rule.programs
            ],
        }
        for order, rule in enumerate(segments.rules, start=1)
    ]


def term_definitions(horizon_days: int, as_of: str) -> list[dict[str, str]]:
    """The words of the report that are not column names."""
    return [
        {
            "term": "Advocating",
            "meaning": "Recommending us in a way we can see: a referral, a review, a "
            "testimonial, a case study or a reference call.",
        },
        {
            "term": "Chance",
            "meaning": f"The model's chance that the customer advocates within {horizon_days} "
            f"days of {as_of} (the horizon). Of 100 customers at 20 %, about 20 are "
            "expected to.",
        },
        {
            "term": "As-of date (cutoff)",
            "meaning": f"{as_of}: the list uses only what customers did before it.",
        },
        {
            "term": "Expected advocates",
            "meaning": "The sum of the chances of a segment's customers: how many of them "
            "are expected to advocate if nobody is contacted.",
        },
        {
            "term": "May be contacted",
            "meaning": "The customer agreed to marketing contact (opt-in). Contact only these.",
        },
    ]


def column_definitions(
    horizon_days: int, columns: list[str], order_by: str = "propensity"
) -> list[dict[str, str]]:
    """The headers and meanings of the list's `columns`, as in ranked_list.xlsx."""
    described = list_columns(horizon_days, order_by)
    return [
        {"term": described[name].header, "meaning": described[name].meaning}
        for name in columns
        if name in described
    ]


def table_rows(rows: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, str]]:
    """List rows as text records under `columns`' headers: chances in %, yes/no."""
    shown = rows[list(columns)].assign(
        probability=rows["probability"].map("{:.1%}".format),
        contactable=rows["contactable"].map({True: "yes", False: "no"}),
    )
    return shown.astype(str).rename(columns=columns).to_dict("records")


def headers(names: tuple[str, ...], horizon_days: int) -> dict[str, str]:
    """Headers in words of the named list columns (those of ranked_list.xlsx)."""
    words = {name: column.header for name, column in list_columns(horizon_days).items()}
    words["previous_segment"] = "Segment in the last run"
    return {name: words[name] for name in names}


def file_links(manifest: dict[str, Any]) -> list[dict[str, str]]:
    """Relative links to the run's files, with what each holds."""
    who = "who may be contacted" if manifest["outreach_contactable_only"] else "all of them"
    links = [
        {
            "href": "ranked_list.xlsx",
            "note": "the list, to open in a spreadsheet (a second sheet explains every column)",
        },
        {"href": "ranked_list.csv", "note": "the list for tools (CRM import, mail merge)"},
    ]
    links += [
        {"href": file, "note": f"the customers in {name}, {who}"}
        for name, file in manifest["segment_files"].items()
    ]
    links += [
        {"href": counts["file"], "note": f"the customers new in {name} since the last run, {who}"}
        for name, counts in manifest["monitoring"].get("newcomers", {}).items()
    ]
    return links


def changes_since(
    manifest: dict[str, Any], newcomers: dict[str, pd.DataFrame], horizon_days: int
) -> dict[str, Any] | None:
    """What changed since the previous run: newcomers per watched segment, and drift."""
    monitoring = manifest["monitoring"]
    if monitoring["previous_run"] is None:
        return None
    columns = headers(NEWCOMER_COLUMNS, horizon_days)
    drifted = [
        f"{feature_words(name)} (PSI {value:.2f})"
        for name, value in monitoring["feature_psi"].items()
        if value > monitoring["thresholds"]["feature_psi"]
    ]
    return {
        "not_scored": NOT_SCORED,
        "previous_as_of": date_in_words(pd.Timestamp(monitoring["previous_as_of"])),
        "mean_before": f"{monitoring['previous_mean_probability']:.1%}",
        "mean_now": f"{monitoring['mean_probability']:.1%}",
        "score_psi": f"{monitoring['score_psi']:.2f}",
        "drifted": drifted,
        "segments": [
            {
                "name": name,
                "customers": whole_number(counts["customers"]),
                "contactable": whole_number(counts["contactable"]),
                "file": counts["file"],
                "columns": list(columns.values()),
                "rows": table_rows(newcomers[name].head(NEWCOMER_ROWS), columns),
                "more": len(newcomers[name]) > NEWCOMER_ROWS,
            }
            for name, counts in monitoring["newcomers"].items()
        ],
    }


@cache
def templates() -> Environment:
    """The package's HTML templates; every value put into them is HTML-escaped."""
    return Environment(
        loader=PackageLoader("models.scoring"),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    drivers: pd.DataFrame,
    segments: SegmentSettings,
    newcomers: dict[str, pd.DataFrame],
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> str:
    """The report page of a run.

    `drivers` is `models.explain.probability_impact` on this run's customers, and
    `newcomers` the watched segments' newcomers since the previous run (see
    `models.scoring.monitoring`); the rest comes from the list and the manifest.
    """
    as_of = date_in_words(pd.Timestamp(manifest["as_of"]))
    order = list(manifest["segments"])
    with style.context(REPORT_TEXT):
        figures = [
            figure_record(figure)
            for figure in (
                score_distribution_figure(ranked, order, horizon_days),
                segment_sizes_figure(ranked, order),
                top_reasons_figure(ranked),
                impact_figure(drivers),
            )
        ]
    top_columns = headers(TOP_COLUMNS, horizon_days)
    return (
        templates()
        .get_template("report.html")
        .render(
            title=f"Advocate list for {as_of}",
            as_of=as_of,
            horizon_days=horizon_days,
            model_name=manifest["model_name"],
            model_version=manifest["model_version"],
            customers=whole_number(manifest["customers"]),
            sources=manifest["model_sources"],
            not_sources=[t for t in FEATURE_TABLES if t not in manifest["model_sources"]],
            not_applied=manifest["segment_conditions_not_applied"],
            flags=manifest["flags"],
            files=file_links(manifest),
            segment_columns=list(SEGMENT_COLUMNS),
            segment_rows=segment_rows(ranked, manifest, segments),
            segment_definitions=segment_definitions(segments),
            changes=changes_since(manifest, newcomers, horizon_days),
            top_columns=list(top_columns.values()),
            top_rows=table_rows(ranked.head(TOP_ROWS), top_columns),
            term_definitions=term_definitions(horizon_days, as_of),
            column_definitions=column_definitions(
                horizon_days, list(ranked.columns), run_order(manifest)
            ),
            figures=figures,
        )
    )
