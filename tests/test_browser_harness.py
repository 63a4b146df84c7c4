"""The browser harness itself: axe-core finds what it should, widths and JavaScript are as asked.

If the harness saw nothing, every page and e-mail check built on it would pass for nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from browser_harness import Browser, _replaced

CLEAN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clean</title></head>
<body><main><h1>Approve this request?</h1><p>Nothing wrong here.</p></main></body></html>"""

#: An image without a text alternative: axe-core's ``image-alt`` rule (WCAG 1.1.1).
UNLABELLED_IMAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title></head>
<body><main><h1>Broken</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main>
</body></html>"""

#: A strict Content Security Policy, as the approver's pages send: no scripts of the page's own.
STRICT_CSP = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>Strict</title></head>
<body><main><h1>Strict</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main>
</body></html>"""

SCRIPTED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scripted</title></head>
<body><main><h1 id="h">Without JavaScript</h1>
<script>document.getElementById("h").textContent = "With JavaScript"</script>
</main></body></html>"""

WIDE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Wide</title></head>
<body><main><h1>Wide</h1><div style="width: 500px">a fixed 500 px box</div></main></body></html>"""


def test_a_clean_page_has_no_violations(chromium: Browser) -> None:
    """A page with a language, a title, one main landmark and one h1 reports no violations."""
    chromium.open(CLEAN)
    assert chromium.axe() == []


def test_a_known_violation_is_reported(chromium: Browser) -> None:
    """An image without alt text is reported as axe-core's image-alt rule, naming the element."""
    chromium.open(UNLABELLED_IMAGE)
    violations = {violation.rule: violation for violation in chromium.axe()}
    assert "image-alt" in violations
    assert violations["image-alt"].targets == ("img",)


def test_axe_runs_under_a_strict_content_security_policy(chromium: Browser) -> None:
    """A page that forbids every script is still checked: the violation is found."""
    chromium.open(STRICT_CSP)
    assert "image-alt" in {violation.rule for violation in chromium.axe()}


def test_javascript_can_be_switched_off(chromium: Browser) -> None:
    """With javascript=False the page's script does not run; with the default it does."""
    chromium.open(SCRIPTED, javascript=False)
    assert "Without JavaScript" in chromium.text()
    chromium.open(SCRIPTED)
    assert "With JavaScript" in chromium.text()


def test_viewport_width_and_overflow(chromium: Browser) -> None:
    """The viewport is the width asked; a 500 px box overflows at 320 px and fits at 600 px."""
    chromium.open(CLEAN, width=320)
    assert chromium.viewport_width() == 320
    assert not chromium.overflows()
    chromium.open(WIDE, width=320)
    assert chromium.overflows()
    chromium.open(WIDE, width=600)
    assert chromium.viewport_width() == 600
    assert not chromium.overflows()


def test_screenshot_is_a_png_of_the_whole_page(chromium: Browser, tmp_path: Path) -> None:
    """The screenshot is a PNG as wide as the viewport and as tall as the page, written to disk."""
    chromium.open(CLEAN + "<div style='height: 2000px'></div>", width=320, height=400)
    path = tmp_path / "shot.png"
    png = chromium.screenshot(path)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert path.read_bytes() == png
    width = int.from_bytes(png[16:20], "big")  # the IHDR chunk: width, then height
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == chromium.size()
    assert height > 2000


class _SlowNextPage(BaseHTTPRequestHandler):
    """``/`` is a form; pressing its button is answered after a second, with a new heading."""

    def do_GET(self) -> None:
        self._answer(b'<form method="post" action="/next"><button type="submit">Go</button></form>')

    def do_POST(self) -> None:
        time.sleep(1.0)  # the old page stays on screen meanwhile, as on a slow network
        self._answer(b"")

    def _answer(self, body: bytes) -> None:
        heading = b"First" if self.command == "GET" else b"Next"
        page = b'<!doctype html><html lang="en"><title>t</title><h1>%s</h1>%s</html>' % (
            heading,
            body,
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test says what went wrong."""


@pytest.fixture
def slow_site() -> Iterator[str]:
    """A loopback server whose form takes a second to answer."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowNextPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("javascript", [True, False])
def test_follow_waits_for_the_next_page(
    chromium: Browser, slow_site: str, *, javascript: bool
) -> None:
    """After ``follow`` the heading read is the next page's, however slowly that page comes."""
    from selenium.webdriver.common.by import By

    chromium.open(slow_site, javascript=javascript)
    assert chromium.heading() == "First"
    chromium.follow(chromium.driver.find_element(By.TAG_NAME, "button"))
    assert chromium.heading() == "Next"


class _Node:
    """An element of a page, as chromedriver answers about it once its page may be gone."""

    def __init__(self, error: Exception | None) -> None:
        self._error = error

    def is_enabled(self) -> bool:
        if self._error is not None:
            raise self._error
        return True


def test_a_node_of_a_replaced_document_counts_as_replaced() -> None:
    """Both ways chromedriver says "that page is gone" count; any other error still fails."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    gone = "unhandled inspector error: Node with given id does not belong to the document"
    assert _replaced(_Node(StaleElementReferenceException("stale")))  # type: ignore[arg-type]
    assert _replaced(_Node(WebDriverException(gone)))  # type: ignore[arg-type]
    assert not _replaced(_Node(None))  # type: ignore[arg-type]
    with pytest.raises(WebDriverException, match="session deleted"):
        _replaced(_Node(WebDriverException("session deleted")))  # type: ignore[arg-type]
