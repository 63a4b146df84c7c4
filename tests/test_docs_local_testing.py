"""docs/local-testing.md: the walk from a moto server to a clicked link runs as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import load_snippet, markdown_snippets  # tests/ is on sys.path

DOC = Path(__file__).resolve().parents[1] / "docs" / "local-testing.md"


def test_the_local_click_completes_the_execution(
    tmp_path: Path, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """local_click.py starts moto, mints, clicks: it prints 200 and SUCCEEDED {'ok': True}."""
    snippets = markdown_snippets(DOC)
    assert sorted(snippets) == ["local_click.py"]
    load_snippet(tmp_path, "local_click.py", snippets["local_click.py"])
    assert capsys.readouterr().out.splitlines() == ["200", "SUCCEEDED {'ok': True}"]
