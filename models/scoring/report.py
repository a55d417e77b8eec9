"""The HTML report of a scoring run: one self-contained file a marketer can open.

Plots are embedded as images, so the file can be mailed or put on a share as is.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from matplotlib.figure import Figure

from models.explain import NUMBER, shap_summary_figure
from models.plot_style import MODEL_COLOR, apply_style
from models.scoring.reasons import REASONS

TOP_ROWS = 20


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


def _embedded(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return (
        f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'
    )


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, classes="data")


def report_html(
    ranked: pd.DataFrame,
    manifest: dict[str, Any],
    explanation: shap.Explanation,
) -> str:
    """The report page."""
    counts = pd.DataFrame(
        {
            "segment": list(manifest["segments"]),
            "customers": [v["customers"] for v in manifest["segments"].values()],
            "contactable": [v["contactable"] for v in manifest["segments"].values()],
        }
    )
    columns = [
        "rank",
        "customer_id",
        "probability",
        "segment",
        "suggested_program",
        *(f"reason_{i}" for i in range(1, REASONS + 1)),
    ]
    top = ranked[columns].head(TOP_ROWS).assign(probability=lambda t: t["probability"].round(3))
    figures = [
        score_distribution_figure(ranked),
        segment_sizes_figure(ranked),
        top_reasons_figure(ranked),
        shap_summary_figure(explanation),
    ]
    title = f"Advocate list as of {manifest['as_of']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }}
table.data {{ border-collapse: collapse; font-size: 0.85rem; }}
table.data td, table.data th {{ padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }}
img {{ max-width: 100%; margin: 1rem 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Model {html.escape(manifest["model_name"])} version {html.escape(manifest["model_version"])};
{manifest["customers"]:,} customers scored. Files: ranked_list.xlsx, ranked_list.csv, and
one file per segment in <code>segments/</code>.</p>
<h2>Segments</h2>{_table(counts)}
<h2>Top {TOP_ROWS} of the list</h2>{_table(top)}
<h2>Plots</h2>
{"".join(_embedded(figure) for figure in figures)}
</body></html>
"""
