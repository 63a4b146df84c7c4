"""docs/approver-pages.md: its theme example runs, and its page table is what the pages say."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import load_snippet, markdown_snippets  # tests/ is on sys.path
from sfn_callback_urls import CallbackRequest, ConfirmPage, LocalKey, Minter, SuccessAction
from sfn_callback_urls._config import ENV_KEY

DOC = Path(__file__).resolve().parents[1] / "docs" / "approver-pages.md"


def test_the_theme_example_builds_a_german_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's example, run as written: its handler's confirm page is German, logo allowed."""
    monkeypatch.setenv(ENV_KEY, LocalKey.generate().to_string())
    module = load_snippet(tmp_path, "pages.py", markdown_snippets(DOC)["pages.py"])
    handler = module.handler
    url = Minter(handler.codec, "https://x.example").mint(
        "t" * 40, [SuccessAction(name="approve", output={}, confirm=ConfirmPage(title="Go?"))]
    )
    query = url.urls["approve"].split("?", 1)[1]
    answer = handler.handle(CallbackRequest("GET", query, {"Accept": "text/html"}))
    page = answer.body.decode()
    assert '<html lang="de">' in page
    assert "Wählen Sie <strong>Approve</strong>, um Ihre Antwort zu speichern." in page
    assert "<footer>Fragen? ops@example.com</footer>" in page
    assert handler.page_theme.words.done_headings["approve"] == "Genehmigt"
    assert answer.headers["Content-Security-Policy"].endswith(
        "img-src https://cdn.example.com/acme.png"
    )


def test_the_table_quotes_the_pages() -> None:
    """Every heading and sentence in the page table is the built-in English word."""
    from sfn_callback_urls import PageWords

    text = DOC.read_text(encoding="utf-8")
    words = PageWords()
    for name in (
        "confirm_sentence",
        "done_sentence",
        "already_heading",
        "already_sentence",
        "expired_heading",
        "expired_sentence",
        "invalid_heading",
        "invalid_sentence",
        "unavailable_heading",
        "unavailable_sentence",
        "internal_heading",
        "internal_sentence",
    ):
        assert f'"{getattr(words, name)}"' in text, name
