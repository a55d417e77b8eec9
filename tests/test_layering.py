"""The import layering of pyproject.toml's [tool.importlinter] holds, and would catch a break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "pipelines")


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)


def test_the_layers_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "5 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "features" / "clock.py").open("a") as module:
        module.write("\nimport pipelines.cli  # an upward import\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "Imports go one way: pipelines -> models -> features BROKEN" in result.stdout
    assert "features.clock -> pipelines.cli" in result.stdout
