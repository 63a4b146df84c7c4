"""Every figure the README and the docs quote is the generated one (benchmarks/figures.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quoted_figures_are_the_generated_ones() -> None:
    """URL lengths computed from today's code, and times from results.json, are what docs say."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(ROOT / "benchmarks" / "figures.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_document_quotes_the_approve_url_length() -> None:
    """The README, the docs' home page and the benchmarks page each quote the length, marked."""
    for path in ("README.md", "docs/index.md", "docs/benchmarks.md"):
        assert "<!-- fig:approve_url_chars -->" in (ROOT / path).read_text(encoding="utf-8")
