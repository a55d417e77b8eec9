# %% [markdown]
# # 01 · Explore the inputs
#
# What the curated store holds: how ingestion judged the five input tables (rows
# kept, exact duplicates dropped, rows quarantined and the rules they broke), then the
# distribution and time coverage of each table.
#
# Paths come from the project configuration (`configs/advocacy.yaml`, or the file named
# by `ADVOCACY_CONFIG`), so after `make demo` this runs as is.

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by shap

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from features.contracts import CONTRACTS, TABLE_NAMES
from features.store import MANIFEST, current_version, read_table
from models.plot_style import MODEL_COLOR, apply_style
from pipelines.config import project_config

# Relative paths in the config are taken from the project folder, as for `make demo`.
config = project_config()
apply_style()
pd.set_option("display.max_columns", 20, "display.width", 120)

store = config.ingest.store
version = current_version(store)
manifest = json.loads((version / MANIFEST).read_text())
print(f"curated store {store}, current version {version.name}, ingested as of {manifest['as_of']}")

# %% [markdown]
# ## Data quality: what ingestion kept, dropped and quarantined
#
# Every row read ends up in exactly one place: the curated table, the quarantine file
# of its table, or the count of exact duplicates dropped.

# %%
summary = pd.DataFrame(manifest["tables"]).set_index("table")
summary = summary[["rows_read", "exact_duplicates_dropped", "rows_kept", "rows_quarantined"]]
summary["quarantined_%"] = (100 * summary["rows_quarantined"] / summary["rows_read"]).round(3)
accounted = summary[["exact_duplicates_dropped", "rows_kept", "rows_quarantined"]].sum(axis=1)
print(f"every row read is accounted for: {accounted.eq(summary['rows_read']).all()}")
display(summary)

# %%
by_rule = (
    pd.DataFrame({t["table"]: t["quarantined_by_rule"] for t in manifest["tables"]})
    .reindex(columns=list(TABLE_NAMES))
    .fillna(0)
    .astype("int64")
)
by_rule.index.name = "rule"
if by_rule.empty:
    print("No row was quarantined: the inputs met every rule of the data contracts.")
else:
    axes = by_rule.T.plot.barh(stacked=True, figsize=(8, 4))
    axes.set(
        title="Quarantined rows by table and rule",
        xlabel="rows quarantined",
        ylabel="",
    )
    axes.invert_yaxis()
    plt.show()
    display(by_rule)

# %% [markdown]
# The quarantine files keep each bad row with its position in the source file, the
# rules it broke (`column: rule`, several separated by `;`) and its original values,
# so the owner of the source can fix it. One example per table and rule:

# %%
quarantine = {
    name: pd.read_parquet(version / "quarantine" / f"{name}.parquet") for name in TABLE_NAMES
}
examples = []
for name, rows in quarantine.items():
    if rows.empty:
        continue
    broken = rows.assign(broken=rows["rules"].str.split("; ")).explode("broken")
    for broken_rule, row in broken.drop_duplicates("broken").set_index("broken").iterrows():
        column, rule = broken_rule.split(": ", 1)
        examples.append(
            {
                "table": name,
                "rule": rule,
                "column": column,
                "source_row": row["source_row"],
                "value as read": row.get(column, ""),
                "rows": int((broken["broken"] == broken_rule).sum()),
            }
        )
if examples:
    display(pd.DataFrame(examples))
else:
    print("The quarantine files are empty.")

# %% [markdown]
# ## The curated tables
#
# Rows, the period each table covers, and the share of missing values per column
# (optional columns may be empty; required ones never are after ingestion).

# %%
tables = {name: read_table(current_version(store), name) for name in TABLE_NAMES}
coverage = pd.DataFrame(
    {
        name: {
            "rows": len(frame),
            "time column": CONTRACTS[name].time_column,
            "first": frame[CONTRACTS[name].time_column].min(),
            "last": frame[CONTRACTS[name].time_column].max(),
            "customers": frame["customer_id"].nunique(),
        }
        for name, frame in tables.items()
    }
).T
display(coverage)

# %%
missing = (
    pd.concat({name: frame.isna().mean().mul(100) for name, frame in tables.items()})
    .rename_axis(["table", "column"])
    .rename("% missing")
    .round(1)
)
print("Columns without a missing value:", int((missing == 0).sum()), "of", len(missing))
display(missing[missing > 0].to_frame())

# %% [markdown]
# ## Time coverage
#
# Events per month in each table. The last month is partial when the data ends
# within it; a gap or a cliff here would mean a broken extract.

# %%
figure, axes = plt.subplots(figsize=(8, 4.5))
for name, frame in tables.items():
    column = CONTRACTS[name].time_column
    monthly = frame[column].dt.tz_localize(None).dt.to_period("M").value_counts().sort_index()
    axes.plot(monthly.index.to_timestamp(), monthly.to_numpy(), label=f"{name} ({column})")
axes.set(
    title="Rows per month",
    xlabel="month (UTC)",
    ylabel="rows per month (log scale)",
    yscale="log",
)
axes.legend()
plt.show()

# %% [markdown]
# ## Distributions
#
# ### Customers

# %%
customers = tables["customers"]
figure, grid = plt.subplots(1, 3, figsize=(12, 3.8))
for axes, column in zip(grid, ["country", "plan", "acquisition_channel"], strict=True):
    counts = customers[column].fillna("(missing)").value_counts().head(10)
    axes.barh(counts.index[::-1], counts.to_numpy()[::-1], color=MODEL_COLOR)
    axes.set(title=column.replace("_", " "), xlabel="customers", ylabel="")
figure.tight_layout()
plt.show()
print(f"marketing opt-in: {customers['marketing_opt_in'].mean():.1%} of customers may be contacted")

# %% [markdown]
# ### Purchases

# %%
purchases = tables["purchases"]
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
positive = purchases.loc[purchases["amount"] > 0, "amount"]
left.hist(positive, bins=np.geomspace(positive.min(), positive.max(), 50), color=MODEL_COLOR)
left.set(
    title="Order value",
    xlabel=f"order amount ({purchases['currency'].mode().iloc[0]}, log scale)",
    ylabel="orders",
    xscale="log",
)
status = purchases["status"].fillna("(missing)").value_counts(normalize=True).mul(100)
right.bar(status.index, status.to_numpy(), color=MODEL_COLOR)
right.set(title="Order status", xlabel="status", ylabel="share of orders (%)")
figure.tight_layout()
plt.show()
purchases.groupby("category")["amount"].describe().round(2)

# %% [markdown]
# ### Support tickets

# %%
tickets = tables["support_tickets"]
hours = (tickets["resolved_at"] - tickets["opened_at"]).dt.total_seconds() / 3600
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
for priority, rows in hours.groupby(tickets["priority"].fillna("(missing)")):
    left.hist(rows.dropna().clip(upper=240), bins=48, histtype="step", label=priority)
left.set(
    title="Time to resolve (240 h and more in the last bin)",
    xlabel="hours from opening to resolution",
    ylabel="tickets",
)
left.legend(title="priority")
csat = tickets["csat"].value_counts().sort_index()
right.bar(csat.index.astype("str"), csat.to_numpy(), color=MODEL_COLOR)
right.set(title="Ticket satisfaction", xlabel="CSAT score (1-5)", ylabel="tickets")
figure.tight_layout()
plt.show()
print(f"open tickets at the end of the data: {tickets['resolved_at'].isna().sum():,}")

# %% [markdown]
# ### Surveys

# %%
surveys = tables["survey_responses"]
figure, grid = plt.subplots(1, 3, figsize=(12, 3.8))
for axes, (kind, rows) in zip(grid, surveys.groupby("survey_type"), strict=True):
    scores = rows["score"].value_counts().sort_index()
    axes.bar(scores.index.astype("int64").astype("str"), scores.to_numpy(), color=MODEL_COLOR)
    axes.set(title=f"{kind.upper()} ({len(rows):,} answers)", xlabel="score", ylabel="answers")
figure.tight_layout()
plt.show()
print(f"answers with a comment: {surveys['comment'].notna().mean():.1%}")

# %% [markdown]
# ### Advocacy events
#
# The label counts referrals, reviews, testimonials, case studies and reference calls
# (`label.event_types` in the config); social mentions and community posts are features only.

# %%
advocacy = tables["advocacy_events"]
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
kinds = advocacy["event_type"].value_counts()
labelled = kinds.index.isin(config.label.event_types)
left.barh(
    kinds.index[::-1],
    kinds.to_numpy()[::-1],
    color=[MODEL_COLOR if x else "#b8c7dc" for x in labelled[::-1]],
)
left.set(title="Advocacy events by type (dark: counted by the label)", xlabel="events", ylabel="")
per_customer = advocacy.groupby("customer_id").size().value_counts().sort_index().head(15)
right.bar(per_customer.index.astype("str"), per_customer.to_numpy(), color=MODEL_COLOR)
right.set(
    title="Events per advocating customer",
    xlabel="advocacy events of one customer",
    ylabel="customers",
    yscale="log",
)
figure.tight_layout()
plt.show()
print(
    f"{advocacy['customer_id'].nunique():,} of {len(customers):,} customers "
    f"({advocacy['customer_id'].nunique() / len(customers):.1%}) ever advocated"
)
