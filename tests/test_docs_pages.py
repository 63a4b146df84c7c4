"""The user docs as a whole: what every page must (not) say."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER_DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_page_cites_the_internal_tracker() -> None:
    """No user page names an internal issue number ("issue 11"); readers cannot open them."""
    for page in USER_DOCS:
        found = re.findall(r"\bissues? \d+", page.read_text(encoding="utf-8"), re.IGNORECASE)
        assert not found, f"{page.name}: {found}"
