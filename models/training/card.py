"""The model card: what a trained model is, what it was judged on, and where it falls short."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.availability import sources_in_words
from features.build import FeatureSettings
from features.labels import LabelSettings
from models.training.dataset import CutoffPlan
from models.training.family import FAMILY_WORDS
from models.training.fit import MODEL, ORACLE, REFERENCE, TrainingResult

CARD_METRICS = ("pr_auc", "roc_auc", "lift_top_1pct", "lift_top_10pct", "recall_top_10pct")

LIMITS = """\
- Trained on the cutoffs above only: behaviour that changed since the test cutoff
  (new products, prices, survey programmes) is not reflected until the next training.
- Only customers with an order in the activity window are scored; new customers
  without orders and long-lapsed ones are outside the population.
- Advocacy that is not recorded in advocacy_events (word of mouth, untracked reviews)
  counts as no advocacy: the labels undercount, and so do the probabilities.
- Survey features come from customers who chose to answer; customers who never answer
  are judged on purchases and support alone.
- The probability is an association learned from history, not the effect of contacting
  a customer: it does not say who will advocate *because* of outreach."""


@dataclass(frozen=True)
class CardContext:
    """What the card says about the data, besides the training result."""

    plan: CutoffPlan
    rows: dict[str, int]
    positives: dict[str, int]
    labels: LabelSettings
    features: FeatureSettings
    data_fingerprint: str
    present: dict[str, list[str]]
    """What the store's source had (`features.store.present_sources`)."""

    def sources(self, names: list[str]) -> str:
        """The tables the named features read, and what the source lacked, in one line."""
        return sources_in_words(names, self.present)


def _day(timestamp: pd.Timestamp) -> str:
    return timestamp.strftime("%Y-%m-%d")


def metrics_table(evaluation: pd.DataFrame) -> str:
    """The card's metric table as Markdown: one row per ranking, the model first."""
    order = [MODEL, *[n for n in evaluation.index if n not in (MODEL, ORACLE)]]
    if ORACLE in evaluation.index:
        order.append(ORACLE)
    lines = [
        "| ranking | " + " | ".join(CARD_METRICS) + " | Brier |",
        "|---" * (len(CARD_METRICS) + 2) + "|",
    ]
    for name in order:
        row = evaluation.loc[name]
        brier = row.get("brier")
        values = " | ".join(f"{row[m]:.3f}" for m in CARD_METRICS)
        lines.append(f"| {name} | {values} | {'' if pd.isna(brier) else f'{brier:.4f}'} |")
    return "\n".join(lines)


def model_in_words(result: TrainingResult) -> str:
    """The family, its shape, why it was chosen, and what its reasons are."""
    choice, params = result.family, result.params
    chosen = (
        f"{'set in the configuration (train.family)' if choice.configured else 'chosen'} over "
        f"{FAMILY_WORDS[choice.runner_up]}, with PR-AUC on the validation cutoff "
        f"{choice.validation_pr_auc[choice.family]:.3f} against "
        f"{choice.validation_pr_auc[choice.runner_up]:.3f}"
    )
    if choice.family == "lightgbm":
        return (
            f"LightGBM, {params['best_iteration']} trees of up to {params['num_leaves']} "
            f"leaves, {chosen}. Reasons are exact TreeSHAP contributions in log-odds."
        )
    return (
        f"Logistic regression (L2-regularized, C={params['C']:g}) on the standardized "
        f"features, missing values imputed with the training median and flagged; {chosen}. "
        "Reasons are exact contributions in log-odds, coefficient x standardized value."
    )


def model_card(result: TrainingResult, context: CardContext, version: str | None) -> str:
    """The card as Markdown."""
    plan, evaluation = context.plan, result.evaluation
    model = evaluation.loc[MODEL]
    comparisons = [
        f"- Best baseline: **{result.best_baseline}** (PR-AUC "
        f"{evaluation.loc[result.best_baseline, 'pr_auc']:.3f}); the model "
        f"{'beats' if result.beats_baselines else 'does NOT beat'} it."
    ]
    runner_up = result.family.runner_up
    comparisons.append(
        f"- The other model family, {FAMILY_WORDS[runner_up]}: PR-AUC "
        f"{evaluation.loc[runner_up, 'pr_auc']:.3f} here (the family is chosen on the "
        "validation cutoff, never on this one)."
    )
    if REFERENCE in evaluation.index:
        comparisons.append(
            f"- Unconstrained reference booster: PR-AUC {evaluation.loc[REFERENCE, 'pr_auc']:.3f}"
            f" (the model keeps {model['pr_auc'] / evaluation.loc[REFERENCE, 'pr_auc']:.1%})."
        )
    if ORACLE in evaluation.index:
        comparisons.append(
            f"- Oracle ranking (true probabilities of the generated world): PR-AUC "
            f"{evaluation.loc[ORACLE, 'pr_auc']:.3f}; the model reaches "
            f"{model['pr_auc'] / evaluation.loc[ORACLE, 'pr_auc']:.1%} of it."
        )
    return f"""# Model card: advocacy-propensity{f" version {version}" if version else ""}

Predicts the probability that a customer advocates for the brand within
{context.labels.horizon_days} days of a cutoff date, from their behaviour before it.

## Data
- Curated store fingerprint: `{context.data_fingerprint}`
- Sources: {context.sources(result.model.features)}
- Training cutoffs: {_day(plan.train[0])} to {_day(plan.train[-1])} ({len(plan.train)} monthly
  cutoffs, {context.rows["train"]:,} rows, {context.positives["train"]:,} advocates)
- Validation cutoff (early stopping, calibration): {_day(plan.validation)}
  ({context.rows["validation"]:,} rows, {context.positives["validation"]:,} advocates)
- Test cutoff (all metrics below): {_day(plan.test)}
  ({context.rows["test"]:,} rows, {context.positives["test"]:,} advocates)

## Population and label
- Population at a cutoff: customers who signed up before it and ordered in the
  {context.features.activity_days} days before it.
- Label: 1 if the customer has an advocacy event of type
  {", ".join(context.labels.event_types)} in [cutoff, cutoff + {context.labels.horizon_days} days).
- Features: {len(result.model.features)} behavioural features (see features/README.md);
  how each was computed is recorded in `feature_definitions.json`, and scoring refuses
  to run when any of them is computed differently today.

## Model
{model_in_words(result)}
{result.params["calibration"].capitalize()} calibration fitted on the validation cutoff.

## Results on the test cutoff
{metrics_table(evaluation)}

Calibration: Brier {model["brier_uncalibrated"]:.4f} before, {model["brier"]:.4f} after;
expected calibration error {model["ece_uncalibrated"]:.4f} before, {model["ece"]:.4f} after.

{chr(10).join(comparisons)}

## Known limits
{LIMITS}
"""
