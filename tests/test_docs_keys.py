"""docs/keys.md: the explicit-key example runs as written, every name defined in it."""

from __future__ import annotations

from pathlib import Path

from helpers import load_snippet, markdown_snippets  # tests/ is on sys.path

DOC = Path(__file__).resolve().parents[1] / "docs" / "keys.md"


def test_the_explicit_key_example_mints_and_opens(tmp_path: Path) -> None:
    """The page's one snippet mints a URL under a key built from its text and opens it."""
    snippets = markdown_snippets(DOC)
    assert sorted(snippets) == ["explicit_key.py"]
    module = load_snippet(tmp_path, "explicit_key.py", snippets["explicit_key.py"])
    assert module.request_url.startswith("https://approvals.example.com/callbacks/respond?")
    assert module.callback.claims.token == module.task_token
