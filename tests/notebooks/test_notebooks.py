"""The notebooks run top to bottom, in order, on small generated worlds (part of `make test`).

Each `notebooks/NN_*.py` (Jupytext percent format, the committed source of the
notebook) is converted at run time and executed in a fresh kernel of this environment;
a cell that raises fails the test. The notebooks find their data through the config
file named by ADVOCACY_CONFIG and the MLflow store named by MLFLOW_TRACKING_URI, as
after `make demo`. One fixture prepares the data once per module:

- the demo pipeline (`advocacy demo`: the configured demo world, ingested, trained,
  registered and scored) into a temporary folder and MLflow store, for every notebook;
  the session's run, which the flow tests check too (`demo_run` in tests/conftest.py);
- a small world with every kind of bad row, ingested, on which notebook 01 runs a
  second time to show quarantined rows (the demo world is clean, and its model must
  pass the quality gate, so the two are kept apart).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from features.generator import GeneratorSettings, Messiness, generate_world
from features.ingest import IngestSettings, ingest
from tests.conftest import DEMO_AS_OF, DemoRun

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
# The kernel's default backend: headless, and it renders every figure into the outputs,
# so drawing errors fail the test too.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


@dataclass(frozen=True)
class Workspace:
    """Config files for the notebooks and the MLflow store the demo trained into."""

    demo_config: Path
    messy_config: Path
    tracking_uri: str


def _write_config(raw: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def workspace(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("notebooks")
    messy = Messiness(**dict.fromkeys(Messiness.model_fields, 0.01))
    generate_world(GeneratorSettings(customers=2000, seed=3, messiness=messy), folder / "messy")
    ingest(IngestSettings(source=folder / "messy", store=folder / "messy-store", as_of=DEMO_AS_OF))
    raw = yaml.safe_load(demo_run.config_file.read_text(encoding="utf-8"))
    raw["generate"]["out"] = str(folder / "messy")
    raw["ingest"].update(source=str(folder / "messy"), store=str(folder / "messy-store"))
    messy_config = _write_config(raw, folder / "messy.yaml")
    return Workspace(demo_run.config_file, messy_config, demo_run.tracking_uri)


def test_the_four_notebooks_are_there_in_order() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_explore_inputs",
        "02_feature_iteration",
        "03_train_and_explain",
        "04_segments_review",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_uses_the_project_style_and_config(notebook: Path) -> None:
    text = notebook.read_text(encoding="utf-8")
    assert "apply_style()" in text
    assert "config = project_config()" in text
    assert "os.chdir" not in text


# Notebook 01 runs on both stores: the messy one has quarantined rows to show, the demo's
# (what a data scientist has after `make demo`) has none.
RUNS = [
    pytest.param(notebook, world, id=f"{notebook.stem}-{world}")
    for notebook in NOTEBOOKS
    for world in (("messy", "demo") if notebook.stem.startswith("01_") else ("demo",))
]


@pytest.mark.slow
@pytest.mark.parametrize(("notebook", "world"), RUNS)
def test_notebook_runs_top_to_bottom(
    notebook: Path,
    world: str,
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = workspace.messy_config if world == "messy" else workspace.demo_config
    # The kernel inherits this environment.
    monkeypatch.setenv("ADVOCACY_CONFIG", str(config))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)
    monkeypatch.setenv("MPLBACKEND", INLINE_BACKEND)
    nb = jupytext.reads(notebook.read_text(encoding="utf-8"), fmt="py:percent")
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    finally:  # the executed copy, to look at after a failure
        nbformat.write(nb, tmp_path / f"{notebook.stem}.ipynb")

    assert nb.cells[0].outputs[0]["text"].strip() == sys.prefix, "kernel outside this environment"
    outputs = [output for cell in nb.cells for output in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plot rendered"
    if world == "messy":
        text = "".join(str(output.get("data", output.get("text", ""))) for output in outputs)
        assert "negative_amount" in text and "unknown_customer" in text
