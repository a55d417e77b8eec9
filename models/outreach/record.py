"""Writing an evaluation (report, table, summary in the run folder) and an uplift model to MLflow.

Nothing written here names a customer: the table and the report hold counts, rates and
amounts per segment and program; the uplift run holds metrics, Qini curves, and five
rows of features as the model's input example.
"""

from __future__ import annotations

import json
import math
import re
from importlib.metadata import version as installed_version
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from mlflow import MlflowClient
from mlflow.models import infer_signature

from models.model_registry import CHAMPION
from models.outreach.evaluate import EVALUATION, Evaluation
from models.outreach.qini import qini_figure
from models.outreach.uplift import UpliftResult, UpliftSettings
from models.uplift import UPLIFT_MODEL_NAME

REPORT = "outreach.html"
TABLE = "outreach.csv"
SUMMARY = "outreach.json"
UPLIFT = "uplift"
REQUIREMENTS = ("lightgbm", "mlflow", "numpy", "pandas")


def _text(value: float, form: str) -> str:
    return "–" if value is None or math.isnan(value) else form.format(value)


def report_html(evaluation: Evaluation) -> str:
    """The evaluation as a page for people."""
    environment = Environment(
        loader=PackageLoader("models.outreach"),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
    )
    rows = [
        {
            "segment": row.segment,
            "program": row.program,
            "asked": f"{row.asked:,}",
            "control": f"{row.control:,}",
            "contacted": f"{row.contacted:,}",
            "asked_rate": _text(row.asked_rate, "{:.1%}"),
            "control_rate": _text(row.control_rate, "{:.1%}"),
            "lift": f"{_text(row.lift, '{:+.1%}')} ({_text(row.lift_low, '{:+.1%}')} to "
            f"{_text(row.lift_high, '{:+.1%}')})",
            "incremental": f"{_text(row.incremental_advocates, '{:+,.1f}')} "
            f"({_text(row.incremental_low, '{:+,.1f}')} to "
            f"{_text(row.incremental_high, '{:+,.1f}')})",
            "cost": _text(row.cost, "{:,.2f}"),
            "cost_per": _text(row.cost_per_incremental_advocate, "{:,.2f}"),
            "value": _text(row.incremental_value, "{:,.2f}"),
            "roi": _text(row.roi, "{:+.0%}"),
        }
        for row in evaluation.results.itertuples()
    ]
    template = environment.get_template("evaluation.html")
    return template.render(summary=evaluation.summary, rows=rows)


def write_evaluation(run: Path, evaluation: Evaluation) -> Path:
    """Report, table and summary in the run's `evaluation/` folder; returns the folder."""
    folder = run / EVALUATION
    folder.mkdir(exist_ok=True)
    evaluation.results.to_csv(folder / TABLE, index=False)
    (folder / SUMMARY).write_text(json.dumps(evaluation.summary, indent=2) + "\n")
    (folder / REPORT).write_text(report_html(evaluation), encoding="utf-8")
    return folder


def _key(*parts: str) -> str:
    return "_".join(re.sub(r"[^0-9a-z]+", "-", part.lower()).strip("-") for part in parts)


def log_evaluation(evaluation: Evaluation, folder: Path) -> str:
    """One MLflow run per evaluation, in the configured experiment; returns its id."""
    summary = evaluation.summary
    with mlflow.start_run(run_name=f"outreach {summary['run']}") as run:
        mlflow.set_tags({"kind": "outreach-evaluation", "scoring_run": summary["run"]})
        mlflow.log_params(
            {
                "model_version": summary["model_version"],
                "as_of": summary["as_of"],
                "horizon_days": summary["horizon_days"],
                "control_share": summary["control_share"],
            }
        )
        metrics = {
            f"{_key(row.segment, row.program)}.{name}": float(getattr(row, name))
            for row in evaluation.results.itertuples()
            for name in ("lift", "lift_low", "lift_high", "incremental_advocates", "cost", "roi")
            if not math.isnan(getattr(row, name))
        }
        mlflow.log_metrics(metrics | {"referral_value": summary["referral_value"]["value"]})
        for name in (REPORT, TABLE, SUMMARY):
            mlflow.log_artifact(str(folder / name), artifact_path=EVALUATION)
        return str(run.info.run_id)


def log_uplift(result: UpliftResult, settings: UpliftSettings) -> str:
    """One MLflow run per uplift training: metrics, Qini plots, the model; returns its version.

    The version is registered as `advocacy-uplift` and becomes its `champion` once the
    run holds everything, so scoring never loads a half-logged model.
    """
    with mlflow.start_run(run_name=f"uplift {result.evaluation_as_of:%Y-%m-%d}"):
        mlflow.set_tags({"kind": "uplift-training", "evaluation_run": result.evaluation_run})
        mlflow.log_params(
            settings.model_dump()
            | {
                "training_runs": ", ".join(result.training_runs),
                "evaluation_as_of": result.evaluation_as_of.isoformat(),
                "features": len(result.model.features),
            }
            | {f"value_per_advocacy.{kind}": worth for kind, worth in result.values.items()}
        )
        mlflow.log_metrics(result.metrics)
        plots = {"qini_observed.png": (result.observed, "observed in the run's control group")}
        if result.true:
            plots["qini_true.png"] = (result.true, "from the generator's true effects")
        for name, (curves, source) in plots.items():
            figure = qini_figure(
                curves, f"Qini on the run of {result.evaluation_as_of:%Y-%m-%d}, {source}"
            )
            mlflow.log_figure(figure, f"{UPLIFT}/{name}")
            plt.close(figure)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=result.model,
            signature=infer_signature(result.example, result.model.uplift(result.example)),
            input_example=result.example,
            registered_model_name=UPLIFT_MODEL_NAME,
            pip_requirements=[f"{name}=={installed_version(name)}" for name in REQUIREMENTS],
        )
        version = str(info.registered_model_version)
        MlflowClient().set_registered_model_alias(UPLIFT_MODEL_NAME, CHAMPION, version)
        return version
