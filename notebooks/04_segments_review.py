# %% [markdown]
# # 04 · Segments review
#
# The latest scoring run, as a marketer receives it: how many customers each segment
# holds, why they are there (the mix of reasons), which program is suggested, how
# many may be contacted, and the files to download.

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by shap

import json

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from models.explain import reason_mix
from models.plot_style import apply_style
from models.scoring.files import MANIFEST, latest_run, slug
from models.scoring.report import score_distribution_figure, segment_sizes_figure
from pipelines.config import project_config

# Relative paths in the config are taken from the project folder, as for `make demo`.
config = project_config()
apply_style()
pd.set_option("display.max_columns", 20, "display.width", 120, "display.max_colwidth", 60)

run = latest_run(config.scoring.out)
manifest = json.loads((run / MANIFEST).read_text())
ranked = pd.read_parquet(run / "ranked_list.parquet")
print(
    f"run {run.name}: {manifest['customers']:,} customers scored as of {manifest['as_of']} "
    f"with {manifest['model_name']} version {manifest['model_version']}"
)

# %% [markdown]
# ## Segment sizes
#
# Segments are tried in order (`scoring.segments` in the config); a customer lands in
# the first that matches. "Expected advocates" is the sum of the calibrated
# probabilities: how many of the segment would advocate in the label horizon without
# any outreach.

# %%
segments = list(manifest["segments"])
sizes = ranked.groupby("segment").agg(
    customers=("customer_id", "size"),
    contactable=("contactable", "sum"),
    control=("control", "sum"),
    mean_probability=("probability", "mean"),
    expected_advocates=("probability", "sum"),
)
sizes = sizes.loc[segments]
sizes["share of list (%)"] = 100 * sizes["customers"] / sizes["customers"].sum()
sizes["contactable (%)"] = 100 * sizes["contactable"] / sizes["customers"]
counts = pd.DataFrame(manifest["segments"]).T
print("the manifest's counts match the list:", counts.equals(sizes[counts.columns]))
display(sizes.round(3))

# %%
segment_sizes_figure(ranked)
plt.show()
score_distribution_figure(ranked)
plt.show()

# %% [markdown]
# ## Suggested programs
#
# Inside a segment, the first program whose conditions hold is suggested (e.g. a case
# study for champions who already gave a testimonial).

# %%
programs = pd.crosstab(ranked["segment"], ranked["suggested_program"]).loc[segments]
display(programs)

# %% [markdown]
# ## Why customers are in each segment: the reason mix
#
# The first reason of every customer (the feature that moved their score most),
# grouped by topic: "gave NPS 9" and "gave NPS 10" are one topic. Shares per segment;
# each segment's column adds up to 100 %.

# %%
mix = reason_mix(ranked, top=10).reindex(columns=segments, fill_value=0.0)
display(mix.mul(100).round(1))

# %%
figure, axes = plt.subplots(figsize=(10, 4.5))
left = pd.Series(0.0, index=mix.columns)
colors = plt.get_cmap("tab20").colors
for color, (topic, shares) in zip(colors, mix.iterrows(), strict=False):
    axes.barh(mix.columns, shares * 100, left=left * 100, label=topic, color=color)
    left += shares
axes.invert_yaxis()
axes.set(
    title="First reason by segment",
    xlabel="customers of the segment (%)",
    ylabel="",
    xlim=(0, 100),
)
axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
plt.show()

# %% [markdown]
# All three reasons together: the broader picture of what the segment has in common.

# %%
every_reason = reason_mix(ranked, slots=["reason_1", "reason_2", "reason_3"], top=12)
display(every_reason.reindex(columns=segments, fill_value=0.0).mul(100).round(1))

# %% [markdown]
# ## Contactable customers
#
# Only customers with a marketing opt-in may be contacted. The per-segment files
# list only them when `scoring.outreach_contactable_only` is on; the full ranked list
# keeps everyone (with the `contactable` column) for analysis.

# %%
reach = sizes[["customers", "contactable", "contactable (%)"]].copy()
reach["expected advocates among contactable"] = (
    ranked[ranked["contactable"]].groupby("segment")["probability"].sum().reindex(segments)
)
display(reach.round(1))
print(f"outreach files hold contactable customers only: {manifest['outreach_contactable_only']}")

# %% [markdown]
# ## The lists to download
#
# `ranked_list.xlsx` (or `.csv`, `.parquet`) holds everyone, best first; one CSV per
# segment under `segments/` is the outreach list for that segment's program;
# `report.html` is the one-page summary to forward.

# %%
files = pd.DataFrame(
    [
        {"file": path.relative_to(run).as_posix(), "size (kB)": round(path.stat().st_size / 1e3)}
        for path in sorted(run.rglob("*"))
        if path.is_file()
    ]
)
files["rows"] = pd.array(
    [
        len(ranked)
        if name.startswith("ranked_list")
        else len(pd.read_csv(run / name, usecols=["customer_id"]))
        if name.startswith("segments/")
        else None
        for name in files["file"]
    ],
    dtype="Int64",
)
display(files)

# %%
focus = "Champion" if "Champion" in manifest["segments"] else segments[0]
outreach = pd.read_csv(run / "segments" / f"{slug(focus)}.csv")
print(
    f"segments/{slug(focus)}.csv: {len(outreach):,} customers to contact "
    f"(of {manifest['segments'][focus]['customers']:,} in the segment)"
)
display(
    outreach[
        [
            "rank",
            "customer_id",
            "probability",
            "suggested_program",
            "reason_1",
            "reason_2",
            "reason_3",
        ]
    ].head(15)
)
