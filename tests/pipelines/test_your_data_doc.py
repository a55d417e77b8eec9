"""The mapping shown in docs/your-data.md is a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.config import PROJECT_ROOT, load_config


def test_the_documented_mapping_loads(tmp_path: Path) -> None:
    page = (PROJECT_ROOT / "docs" / "your-data.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```yaml\n(.*?)```", page, flags=re.DOTALL)
    config = tmp_path / "shop.yaml"
    config.write_text(example, encoding="utf-8")
    tables = load_config(config).ingest.tables
    assert set(tables) == {"customers", "purchases", "survey_responses"}
    assert tables["purchases"].values["Status"]["retourniert"] == "returned"
    assert tables["customers"].values["Newsletter"] == {"ja": "true", "nein": "false"}
