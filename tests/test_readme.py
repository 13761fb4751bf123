"""The README's examples work as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_standalone_fast_query_example_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_python_block("fast_query on its own"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "['GraphQL', 'SQL']"
    assert "WHERE notes.stars >= 4 AND notes.deleted_at IS NULL ORDER BY notes.stars DESC" in (
        " ".join(lines)
    )
    assert lines[-2] == "2 3"
    assert lines[-1] == "['SQL', 'REST'] 2 1"
