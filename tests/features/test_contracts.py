from __future__ import annotations

from features.docs import ROOT, data_readme, features_readme


def test_generated_docs_are_up_to_date() -> None:
    data = (ROOT / "data" / "README.md").read_text()
    assert data_readme(data) == data, "run `make docs`"
    assert (ROOT / "features" / "README.md").read_text() == features_readme(), "run `make docs`"
