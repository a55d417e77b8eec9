# %% [markdown]
# # 02 · Feature iteration
#
# Build the feature table for a cutoff, look at the features against the label, then
# try one new feature the way it would enter the registry and measure what it adds to
# the validation PR-AUC, before moving it into `features/`.

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by shap

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.metrics import average_precision_score

from features.build import build_features
from features.candidates import candidate_values
from features.definitions import FEATURE_NAMES, Feature, feature
from features.labels import build_labels
from features.store import current_version
from features.views import open_version
from models.plot_style import MODEL_COLOR, apply_style
from models.training.dataset import build_training_set
from models.training.fit import fit_booster
from models.training.metrics import ranking_metrics
from pipelines.config import project_config

# Relative paths in the config are taken from the project folder, as for `make demo`.
config = project_config()
apply_style()
pd.set_option("display.max_columns", 20, "display.width", 120)
connection = open_version(current_version(config.ingest.store))

# %% [markdown]
# ## The time split
#
# Training stacks monthly cutoffs; validation and test are the two latest cutoffs
# whose label windows are fully observed, and no label window of one part overlaps a
# later part. The booster stops early on validation, so ideas are judged on validation
# here and the test cutoff stays untouched until `advocacy train`.

# %%
parts = build_training_set(connection, config.features, config.label, config.training_set)
plan = parts.plan
split = pd.DataFrame(
    {
        "cutoffs": [
            f"{plan.train[0]:%Y-%m-%d} .. {plan.train[-1]:%Y-%m-%d} ({len(plan.train)})",
            f"{plan.validation:%Y-%m-%d}",
            f"{plan.test:%Y-%m-%d}",
        ],
        "rows": [len(parts.train), len(parts.validation), len(parts.test)],
        "advocates": [int(p["label"].sum()) for p in (parts.train, parts.validation, parts.test)],
    },
    index=["train", "validation", "test"],
)
split["advocacy rate (%)"] = (100 * split["advocates"] / split["rows"]).round(2)
display(split)

# %% [markdown]
# ## The feature table at one cutoff
#
# One row per eligible customer (signed up before the cutoff, an order in the year
# before it), one column per registry feature, all computed from events strictly
# before the cutoff; the label says whether the customer advocated in the
# `label.horizon_days` after it.

# %%
cutoff = plan.validation
table = build_features(connection, [cutoff], config.features)
table["label"] = build_labels(connection, table, config.label)
print(
    f"{len(table):,} customers x {len(FEATURE_NAMES)} features as of {cutoff:%Y-%m-%d}; "
    f"{table['label'].mean():.1%} advocated in the next {config.label.horizon_days} days"
)
display(table.describe().T[["mean", "std", "min", "50%", "max"]].round(2).head(12))

# %% [markdown]
# ## Features against the label
#
# How well each feature alone ranks the advocates (ROC-AUC, direction-free: 0.5 is no
# information; missing values ranked last), and the advocacy rate across the values of
# a few of them.

# %%
single = pd.Series(
    {
        name: ranking_metrics(table["label"], table[name].fillna(table[name].min() - 1))["roc_auc"]
        for name in FEATURE_NAMES
    },
    name="roc_auc",
)
strength = (single - 0.5).abs().add(0.5).sort_values().tail(15)
figure, axes = plt.subplots(figsize=(7, 5.5))
colors = [MODEL_COLOR if single[name] >= 0.5 else "#c0504d" for name in strength.index]
axes.barh(strength.index, strength.to_numpy(), color=colors)
axes.axvline(0.5, color="grey", linestyle="--")
axes.set(
    title="Each feature alone (blue: more means likelier, red: less)",
    xlabel="ROC-AUC of the feature alone (direction-free)",
    xlim=(0.45, None),
)
plt.show()


# %%
def rate_by_value(values: pd.Series) -> pd.Series:
    """Advocacy rate (%) per value; counts with many values capped, amounts in octiles."""
    cap = None
    if values.nunique() <= 12:
        groups = values
    elif pd.api.types.is_integer_dtype(values):
        cap = values.quantile(0.95)
        groups = values.clip(upper=cap)
    else:
        groups = pd.qcut(values, 8, duplicates="drop")
    rates = table["label"].groupby(groups, dropna=False, observed=True).mean().mul(100)

    def name(group: object) -> str:
        if isinstance(group, pd.Interval):
            return f"{group.left:,.0f}-{group.right:,.0f}"
        if pd.isna(group):
            return "missing"
        return f"{group:,.0f}{'+' if group == cap else ''}"

    return pd.Series(rates.to_numpy(), index=[name(group) for group in rates.index])


overall = table["label"].mean() * 100
figure, grid = plt.subplots(2, 2, figsize=(11, 7))
for axes, name in zip(
    grid.flat, ["last_nps", "days_since_last_order", "orders_90d", "past_reviews"], strict=True
):
    rates = rate_by_value(table[name])
    axes.bar(rates.index, rates.to_numpy(), color=MODEL_COLOR)
    axes.axhline(overall, color="grey", linestyle="--", label=f"all customers ({overall:.1f} %)")
    axes.set(
        title=feature(name).description.rstrip("."),
        xlabel=f"{name} (value, or octile range)",
        ylabel="advocated in the horizon (%)",
    )
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# ## Trying a new feature
#
# The idea: a recent promoter answer is fresh goodwill. `last_nps` keeps only the
# latest answer and `days_since_last_nps` its age; the count of promoter answers in
# the last 90 days says whether the goodwill is recent *and* repeated.
#
# The candidate is written as the registry entry it would become. `candidate_values`
# computes it with the feature builder's own point-in-time rule (events strictly
# before each cutoff, `age_days` their age at the cutoff), so what is measured here is
# exactly what would be promoted.

# %%
candidate = Feature(
    name="promoter_answers_90d",
    family="surveys",
    dtype="int",
    description="NPS answers of 9 or 10 in the 90 days before the cutoff.",
    phrase="{value:.0f} promoter answers (NPS 9-10) in the last 90 days",
    sql="count(*) FILTER (WHERE age_days <= 90 AND survey_type = 'nps' AND score >= 9)",
)
assert candidate.name not in FEATURE_NAMES, "already in the registry"
trial = dataclasses.replace(
    parts,
    **{
        part: rows.assign(**{candidate.name: candidate_values(connection, rows, candidate)})
        for part, rows in [
            ("train", parts.train),
            ("validation", parts.validation),
            ("test", parts.test),
        ]
    },
)
by_count = trial.train.groupby(trial.train[candidate.name].clip(upper=3))["label"].agg(
    ["size", "mean"]
)
by_count.index = [*by_count.index.astype("str")[:-1], f"{by_count.index[-1]}+"]
by_count.columns = ["training rows", "advocacy rate"]
display(by_count.style.format({"training rows": "{:,}", "advocacy rate": "{:.1%}"}))

# %% [markdown]
# Train the booster twice with the project's settings, without and with the
# candidate, and compare on the validation cutoff. A difference is only worth
# promoting when it is clearly larger than the noise of one cutoff, so the paired
# bootstrap below resamples the validation customers and scores both models on the
# same resample.

# %%
booster = config.train.booster
seed = config.train.seed
features = list(FEATURE_NAMES)
with_candidate = [*features, candidate.name]
label = trial.validation["label"].to_numpy()
scores = {}
for name, columns in [("registry", features), ("registry + candidate", with_candidate)]:
    model = fit_booster(trial, columns, booster, seed)
    scores[name] = model.predict(trial.validation[columns].to_numpy("float64"), raw_score=True)
    print(f"{name}: {model.best_iteration} rounds")
comparison = pd.DataFrame({name: ranking_metrics(label, s) for name, s in scores.items()}).T
display(comparison[["pr_auc", "roc_auc", "lift_top_10pct", "recall_top_10pct"]].round(4))

rng = np.random.default_rng(seed)
gains = []
for _ in range(200):
    rows = rng.integers(0, len(label), len(label))
    gains.append(
        average_precision_score(label[rows], scores["registry + candidate"][rows])
        - average_precision_score(label[rows], scores["registry"][rows])
    )
low, high = np.percentile(gains, [5, 95])
gain = comparison.loc["registry + candidate", "pr_auc"] - comparison.loc["registry", "pr_auc"]
print(
    f"validation PR-AUC gain: {gain:+.4f} (90 % bootstrap interval {low:+.4f} .. {high:+.4f}); "
    f"the registry's promotion margin is {config.tracking.promotion_margin:.4f}"
)
if low > 0 and gain >= config.tracking.promotion_margin:
    print("Verdict: a clear gain, as large as a new champion needs: worth promoting.")
elif low > 0:
    print("Verdict: a real but small gain, below the margin a new champion needs.")
else:
    print("Verdict: within the noise of one cutoff; not worth promoting on this evidence.")

# %%
figure, axes = plt.subplots()
axes.hist(gains, bins=30, color=MODEL_COLOR)
axes.axvline(0, color="grey", linestyle="--", label="no gain")
axes.axvline(gain, color="black", label=f"measured gain {gain:+.4f}")
axes.set(
    title=f"Paired bootstrap of the gain from {candidate.name}",
    xlabel="validation PR-AUC with the candidate minus without (PR-AUC points)",
    ylabel="bootstrap resamples",
)
axes.legend()
plt.show()

# %% [markdown]
# ## Promoting a feature into the registry
#
# When an idea clearly helps (the bootstrap interval above zero, and a gain that
# matters next to the promotion margin), move it out of the notebook:
#
# 1. Add the same entry to `FEATURES` in `features/definitions.py`, in its family's
#    section, with the `_f` helper:
#
#    ```python
#    _f(
#        "promoter_answers_90d",
#        "surveys",
#        "int",
#        "NPS answers of 9 or 10 in the 90 days before the cutoff.",
#        "{value:.0f} promoter answers (NPS 9-10) in the last 90 days",
#        "count(*) FILTER (WHERE age_days <= 90 AND survey_type = 'nps' AND score >= 9)",
#    ),
#    ```
#
#    `missing` defaults to `"0"` (no history counts as 0); a mean or "days since"
#    feature takes `"missing"` and a phrase for that case in `OTHERWISE_PHRASES`
#    (and a yes/no feature its 0-phrase, listed in `YES_NO_FEATURES`).
# 2. Regenerate the feature documentation: `make docs` (runs `python -m features.docs`,
#    which rewrites `features/README.md`; the tests fail while it is stale).
# 3. `make test`: the point-in-time and leakage tests run over every registry feature.
# 4. Registered models keep working: each records how every feature it uses was
#    computed (a hash of its SQL, dtype and missing rule, `definition_hash`), and
#    scoring checks only those, so adding a feature never blocks the champion.
#    Changing an existing feature's SQL does: models that use it refuse to score
#    until a new one is trained. Train a new version with `advocacy train`. It is
#    compared with the champion on the same test rows and becomes `champion` only if
#    its PR-AUC beats the champion's by `tracking.promotion_margin`; otherwise it is
#    registered as `challenger` (see notebook 03 for the run it logs).
