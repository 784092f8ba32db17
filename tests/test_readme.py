"""The README's "In a notebook" example runs as written, in a fresh folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _notebook_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## In a notebook") :]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match is not None, "README has no python block under 'In a notebook'"
    return match.group(1)


@pytest.mark.slow
def test_readme_notebook_example_runs_as_written(tmp_path: Path) -> None:
    code = _notebook_example()
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "菜市场" in page
    assert (tmp_path / "sample" / "communities.geojson").is_file()
