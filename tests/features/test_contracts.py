from __future__ import annotations

from pathlib import Path

from features.contracts import contracts_markdown


def test_data_readme_documents_the_current_contracts() -> None:
    readme = (Path(__file__).parents[2] / "data" / "README.md").read_text()
    assert contracts_markdown() in readme, "regenerate data/README.md from contracts_markdown()"
