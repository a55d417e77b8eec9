"""The HTML report of a scoring run: one self-contained file a marketer can open.

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
import shap
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from models.explain import NUMBER, shap_summary_figure
from models.plot_style import MODEL_COLOR, apply_style
from models.scoring.reasons import REASONS

TOP_ROWS = 20
TOP_COLUMNS = (
    "rank",
    "customer_id",
    "probability",
    "segment",
    "suggested_program",
    *(f"reason_{i}" for i in range(1, REASONS + 1)),
)
"""Columns of the list shown in the report's table of its top customers."""


def score_distribution_figure(ranked: pd.DataFrame) -> Figure:
    """How many customers got which probability, per segment."""
    apply_style()
    figure, axes = plt.subplots()
    bins = np.linspace(0, float(ranked["probability"].max()) or 1.0, 40).tolist()
    for segment, rows in ranked.groupby("segment", sort=False):
        axes.hist(rows["probability"], bins=bins, label=str(segment), alpha=0.8)
    axes.set(
        title="Score distribution",
        xlabel="probability of advocating in the horizon",
        ylabel="customers",
        yscale="log",
    )
    axes.legend()
    return figure


def segment_sizes_figure(ranked: pd.DataFrame) -> Figure:
    """Customers per segment, and how many of them may be contacted."""
    apply_style()
    sizes = ranked.groupby("segment", sort=False)["contactable"].agg(["size", "sum"])
    figure, axes = plt.subplots()
    positions = np.arange(len(sizes))
    axes.barh(positions, sizes["size"], color="#b8c7dc", label="all")
    axes.barh(positions, sizes["sum"], color=MODEL_COLOR, label="contactable")
    axes.set_yticks(positions, sizes.index)
    axes.invert_yaxis()
    axes.set(title="Segment sizes", xlabel="customers", ylabel="")
    axes.legend()
    return figure


def top_reasons_figure(ranked: pd.DataFrame, top: int = 15) -> Figure:
    """The most frequent first reasons of the list's top 20 %."""
    apply_style()
    head = ranked[ranked["percentile"] > 0.8]
    reasons = head["reason_1"].replace("", pd.NA).dropna()
    # Group by what the reason is about, not its exact number: "gave NPS 10" ~ "gave NPS 9".
    topics = reasons.str.replace(NUMBER, "#", regex=True).value_counts().head(top)
    figure, axes = plt.subplots(figsize=(8.0, 0.35 * len(topics) + 1.2))
    axes.barh(topics.index[::-1], topics.to_numpy()[::-1], color=MODEL_COLOR)
    axes.set(title="Most common first reason, top 20 % of the list", xlabel="customers", ylabel="")
    return figure


def figure_data_uri(figure: Figure) -> str:
    """The figure as a PNG data URI, so the report needs no files beside it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"


def segment_rows(manifest: dict[str, Any]) -> list[dict[str, str]]:
    """One record per segment: its customers and how many of them may be contacted."""
    return [
        {
            "segment": name,
            "customers": f"{counts['customers']:,}",
            "contactable": f"{counts['contactable']:,}",
        }
        for name, counts in manifest["segments"].items()
    ]


def top_rows(ranked: pd.DataFrame) -> list[dict[str, str]]:
    """The first `TOP_ROWS` customers of the list as text records, probabilities to 3 places."""
    top = ranked[list(TOP_COLUMNS)].head(TOP_ROWS)
    return (
        top.assign(probability=top["probability"].map("{:.3f}".format))
        .astype(str)
        .to_dict("records")
    )


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
    explanation: shap.Explanation,
) -> str:
    """The report page: segment counts, the top of the list, and the plots."""
    figures = [
        score_distribution_figure(ranked),
        segment_sizes_figure(ranked),
        top_reasons_figure(ranked),
        shap_summary_figure(explanation),
    ]
    return (
        templates()
        .get_template("report.html")
        .render(
            title=f"Advocate list as of {manifest['as_of']}",
            model_name=manifest["model_name"],
            model_version=manifest["model_version"],
            customers=f"{manifest['customers']:,}",
            segment_columns=["segment", "customers", "contactable"],
            segment_rows=segment_rows(manifest),
            top_columns=list(TOP_COLUMNS),
            top_rows=top_rows(ranked),
            figures=[
                {"alt": figure.axes[0].get_title(), "src": figure_data_uri(figure)}
                for figure in figures
            ],
        )
    )
