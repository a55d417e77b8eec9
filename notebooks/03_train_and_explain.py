# %% [markdown]
# # 03 · Train and explain
#
# Train the model as `advocacy train` does and compare it with the baselines a
# marketer would use without it and with the oracle (the generated world's true
# probabilities); open the MLflow run of the registered champion; then explain the
# champion's scores: globally (SHAP beeswarm, dependence plots of the top features) and
# customer by customer (waterfalls and the plain-language reasons scoring prints).
#
# The training here runs in memory: nothing is logged or registered. `advocacy train`
# (or `make demo`) is what logs runs and registers versions.

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by shap

import os

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from mlflow import MlflowClient

from features.build import store_features
from features.store import current_version
from features.views import open_version
from models.explain import (
    SUMMARY_ROWS,
    dependence_figure,
    mean_abs_shap,
    shap_explanation,
    shap_summary_figure,
    waterfall_figure,
)
from models.model_registry import CHAMPION, MODEL_NAME, load_model
from models.plot_style import MODEL_COLOR, apply_style
from models.scoring.reasons import top_reasons
from models.tracking import configure_tracking
from models.training.dataset import build_training_set
from models.training.fit import MODEL, ORACLE, REFERENCE, train_model
from models.training.plots import calibration_figure, gains_figure
from pipelines.config import project_config, with_overrides

# Relative paths in the config are taken from the project folder, as for `make demo`.
config = project_config()
apply_style()
pd.set_option("display.max_columns", 20, "display.width", 120)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
tracking_uri = configure_tracking(config.tracking)  # MLFLOW_TRACKING_URI wins over the config
print(f"MLflow tracking URI: {tracking_uri}")

# %% [markdown]
# ## Train and compare
#
# Same training set, settings and seed as `advocacy train`. With the generated
# world's ground truth (`truth/propensity.parquet`) the evaluation also ranks by the
# true probabilities: the oracle, a ceiling no model reaches except by luck.

# %%
truth = config.train.truth or config.generate.out / "truth" / "propensity.parquet"
settings = with_overrides(config.train, truth=truth) if truth.exists() else config.train
store_version = current_version(config.ingest.store)
parts = build_training_set(
    open_version(store_version),
    config.features,
    config.label,
    config.training_set,
    store_features(store_version),  # the features the store's source supports
)
result = train_model(parts, settings)
print(
    f"model family {result.family.in_words()}, calibration {result.params['calibration']}, "
    f"test cutoff {parts.plan.test:%Y-%m-%d} ({len(parts.test):,} customers, "
    f"{parts.test['label'].mean():.1%} advocated)"
)
columns = ["pr_auc", "roc_auc", "lift_top_1pct", "lift_top_10pct", "recall_top_10pct", "brier"]
evaluation = result.evaluation[columns].sort_values("pr_auc", ascending=False)
display(evaluation.round(4))
print(
    f"best baseline: {result.best_baseline}; the model beats every baseline: "
    f"{result.beats_baselines}"
)
if ORACLE in evaluation.index:
    print(
        f"model PR-AUC is {evaluation.loc[MODEL, 'pr_auc'] / evaluation.loc[ORACLE, 'pr_auc']:.0%}"
        " of the oracle's"
    )

# %%
figure, axes = plt.subplots()
pr_auc = evaluation["pr_auc"].iloc[::-1]
colors = [
    MODEL_COLOR if n == MODEL else "black" if n == ORACLE else "#b8c7dc" for n in pr_auc.index
]
axes.barh(pr_auc.index, pr_auc.to_numpy(), color=colors)
axes.axvline(parts.test["label"].mean(), color="grey", linestyle="--", label="random list")
axes.set(title="Ranking quality on the test cutoff", xlabel="PR-AUC (average precision)")
axes.legend()
plt.show()
gains_figure(result, [n for n in result.evaluation.index if n != REFERENCE])
plt.show()
calibration_figure(result)
plt.show()

# %% [markdown]
# ## The MLflow run of the champion
#
# The registry's `champion` alias points at the version scoring uses; its training
# run holds the parameters, every metric above (as `<ranking>_<metric>`), the plots,
# the evaluation table and the model card. Browse it with
# `mlflow ui --backend-store-uri <tracking URI>`.

# %%
model, version = load_model(CHAMPION)  # scoring's model; a clear error when there is none
client = MlflowClient()
champion = client.get_model_version(MODEL_NAME, version)
run = client.get_run(champion.run_id)
print(f"tracking URI: {mlflow.get_tracking_uri()}")
print(f"experiment:   {client.get_experiment(run.info.experiment_id).name}")
print(f"run id:       {run.info.run_id}")
print(f"model:        {MODEL_NAME} version {champion.version} (aliases {champion.aliases})")
for tag in ("data_fingerprint", "features", "quality_gate", "registry_decision"):
    print(f"{tag + ':':<22}{run.data.tags.get(tag)}")
print("artifacts:", ", ".join(a.path for a in client.list_artifacts(run.info.run_id, "plots")))

# %%
logged = run.data.metrics
table = pd.DataFrame(
    {
        ranking: {metric: logged.get(f"{ranking}_{metric}") for metric in result.evaluation.columns}
        for ranking in result.evaluation.index
    }
).T.dropna(axis=1, how="all")
shown = {f"{r}_{m}" for r in table.index for m in table.columns}
print(f"{len(logged)} metrics logged; per ranking:")
display(table[[c for c in columns if c in table.columns]].round(4))
print("and:", {key: round(value, 4) for key, value in logged.items() if key not in shown})
print(
    f"this notebook's model PR-AUC {result.evaluation.loc[MODEL, 'pr_auc']:.4f}, "
    f"the champion's logged {logged.get('model_pr_auc', float('nan')):.4f} "
    "(equal when the store, config and seed are the same)"
)

# %%
display(Markdown(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")))

# %% [markdown]
# ## What drives the champion's scores
#
# Exact TreeSHAP contributions of the champion (the values scoring turns into
# reasons), for a sample of the test cutoff's customers. Positive values raise the
# log-odds of advocating, negative ones lower them.

# %%
sample = parts.test.sample(min(SUMMARY_ROWS, len(parts.test)), random_state=config.train.seed)
explanation = shap_explanation(model, sample)
shap_summary_figure(explanation)
plt.show()

# %%
importance = mean_abs_shap(explanation)
top = importance.head(15).iloc[::-1]
figure, axes = plt.subplots(figsize=(7, 5.5))
axes.barh(top.index, top.to_numpy(), color=MODEL_COLOR)
axes.set(
    title=f"Global importance, model version {version}",
    xlabel="mean |SHAP value| (log-odds of advocating)",
)
plt.show()

# %% [markdown]
# Dependence plots: each dot a customer, the feature's value against its effect on
# the score; the histogram shows how many customers have each value.

# %%
for name in importance.index[:3]:
    dependence_figure(explanation, name)
    plt.show()

# %% [markdown]
# ## Individual customers
#
# The highest-scored customer of the sample, one from the middle and the lowest: how
# each feature moved the score from the average customer's (E[f(X)]) to theirs
# (f(x)), and the three reasons the ranked list would print for them.

# %%
probability = model.probability(sample)
picks = {
    "highest score": int(np.argmax(probability)),
    "middle": int(np.argsort(probability)[len(probability) // 2]),
    "lowest score": int(np.argmin(probability)),
}
rows = list(picks.values())
contributions = model.contributions(sample)  # what scoring computes: SHAP values + expected value
reasons = top_reasons(contributions[rows, :-1], model.matrix(sample)[rows], model.features)
chosen = pd.DataFrame(
    {
        "customer_id": sample["customer_id"].to_numpy()[rows],
        "probability": probability[rows].round(3),
        "advocated in the horizon": sample["label"].to_numpy()[rows].astype(bool),
    },
    index=list(picks),
)
display(pd.concat([chosen, reasons.set_axis(list(picks))], axis=1))

# %%
for position, (which, row) in enumerate(picks.items()):
    customer = chosen.loc[which, "customer_id"]
    waterfall_figure(explanation, row, f"{customer} ({which}): probability {probability[row]:.1%}")
    plt.show()
    print(f"{customer}:", " | ".join(text for text in reasons.iloc[position] if text))
