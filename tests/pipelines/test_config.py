"""Loading the configuration: partial files merged over the defaults, the local overlay,
errors that name their key and file, and paths for notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from features.errors import UserError
from pipelines import config as config_module
from pipelines.config import (
    DEFAULT_CONFIG,
    PROJECT_ROOT,
    deep_merge,
    load_config,
    project_config,
)


@pytest.fixture(autouse=True)
def no_local_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Neither the machine's configs/local.yaml nor its ADVOCACY_CONFIG reaches these tests.

    Returns where a test may write a local overlay.
    """
    local = tmp_path / "local.yaml"
    monkeypatch.setattr(config_module, "LOCAL_CONFIG", local)
    monkeypatch.delenv("ADVOCACY_CONFIG", raising=False)
    return local


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_partial_file_changes_only_its_keys(tmp_path: Path) -> None:
    defaults = load_config()
    config = load_config(_write(tmp_path / "my.yaml", "scoring: {partitions: 9}\n"))
    assert config.scoring.partitions == 9
    assert config.scoring.segments == defaults.scoring.segments
    assert config.scoring.out == Path("data/scores")
    assert config.model_copy(update={"scoring": defaults.scoring}) == defaults


def test_nested_mappings_merge_key_by_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "my.yaml", "train:\n  booster: {num_leaves: 15}\n")
    booster = load_config(path).train.booster
    assert booster.num_leaves == 15
    assert booster.max_depth == 3  # from configs/advocacy.yaml, not the class default


def test_a_list_replaces_the_default_list(tmp_path: Path) -> None:
    path = _write(tmp_path / "my.yaml", "label: {event_types: [review]}\n")
    assert load_config(path).label.event_types == ("review",)


def test_deep_merge_leaves_its_inputs_alone() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [3]}, "e": None})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_an_unknown_nested_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "my.yaml", "train:\n  booster: {num_leafs: 15}\n")
    with pytest.raises(UserError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: train.booster.num_leafs: unknown key"


def test_a_bad_value_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "my.yaml", "scoring: {partitions: 0}\n")
    with pytest.raises(UserError, match=rf"^{re.escape(str(path))}: scoring\.partitions: "):
        load_config(path)


def test_control_groups_of_an_unknown_segment_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "my.yaml", "outreach: {measured_segments: [Champions]}\n")
    with pytest.raises(UserError, match=r"measured_segments names no segment: Champions \("):
        load_config(path)
    assert load_config().outreach.control_share == 0.1


@pytest.mark.parametrize(
    ("text", "message"),
    [("- scoring\n", "expected sections"), ("scoring: [\n", "not valid YAML")],
)
def test_a_file_that_is_not_sections_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "my.yaml", text)
    with pytest.raises(UserError, match=message):
        load_config(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read config"):
        load_config(tmp_path / "nowhere.yaml")


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path / "my.yaml", "")) == load_config()


def test_advocacy_config_names_the_file_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "my.yaml", "scoring: {partitions: 9}\n")
    monkeypatch.setenv("ADVOCACY_CONFIG", str(path))
    assert load_config().scoring.partitions == 9


def test_the_local_overlay_is_merged_last(tmp_path: Path, no_local_overlay: Path) -> None:
    chosen = _write(tmp_path / "my.yaml", "scoring: {partitions: 9, out: mine}\n")
    _write(no_local_overlay, "scoring: {out: /srv/scores}\n")
    config = load_config(chosen)
    assert config.scoring.out == Path("/srv/scores")  # the overlay wins
    assert config.scoring.partitions == 9  # the chosen file's other keys stay
    assert load_config().scoring.out == Path("/srv/scores")  # over the defaults alone too


def test_a_bad_key_in_the_local_overlay_names_the_overlay(
    tmp_path: Path, no_local_overlay: Path
) -> None:
    chosen = _write(tmp_path / "my.yaml", "scoring: {partitions: 9}\n")
    _write(no_local_overlay, "tracking: {url: http://mlflow:5000}\n")
    with pytest.raises(UserError) as raised:
        load_config(chosen)
    assert str(raised.value) == f"{no_local_overlay}: tracking.url: unknown key"


def test_the_example_overlay_loads_once_uncommented(no_local_overlay: Path) -> None:
    example = (PROJECT_ROOT / "configs" / "local.example.yaml").read_text(encoding="utf-8")
    keys = re.sub(r"^# (\s*[a-z_]+:)", r"\1", example, flags=re.MULTILINE)
    _write(no_local_overlay, keys)
    config = load_config()
    assert config.ingest.store == Path("/srv/advocacy/store")
    assert config.scoring.task_runner == "dask"
    assert config.train.dask_address == config.scoring.dask_address == "tcp://scheduler:8786"


def test_the_notebook_config_has_absolute_paths_under_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # a kernel started anywhere
    config = project_config()
    assert config.scoring.out == PROJECT_ROOT / "data" / "scores"
    assert config.generate.out == PROJECT_ROOT / "data" / "sample"
    assert config.features.out == PROJECT_ROOT / "data" / "features"
    assert config.train.out == PROJECT_ROOT / "data" / "training"
    assert config.ingest.store == PROJECT_ROOT / "data" / "store"
    assert config.tracking.artifacts == PROJECT_ROOT / "data" / "mlflow" / "artifacts"
    assert config.tracking.uri == f"sqlite:///{PROJECT_ROOT / 'data' / 'mlflow' / 'mlflow.db'}"


def test_the_notebook_config_keeps_absolute_paths_and_server_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path / "my.yaml",
        f"scoring: {{out: {tmp_path / 'scores'}}}\ntracking: {{uri: http://mlflow:5000}}\n",
    )
    monkeypatch.setenv("ADVOCACY_CONFIG", str(path))
    config = project_config()
    assert config.scoring.out == tmp_path / "scores"
    assert config.tracking.uri == "http://mlflow:5000"
    assert config.train.truth is None


def test_the_notebook_config_reads_a_relative_advocacy_config_from_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADVOCACY_CONFIG", str(DEFAULT_CONFIG.relative_to(PROJECT_ROOT)))
    config = project_config()  # read from tmp_path, configs/advocacy.yaml would be missing
    assert config.scoring.out == PROJECT_ROOT / "data" / "scores"
