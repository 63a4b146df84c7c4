"""Look at a page as a person would: headless Chromium at a given width, axe-core, screenshots.

One harness for every browser test (the approver's pages, the approval e-mail, the demo):

    with open_chromium(tmp_path) as browser:
        browser.open(html_or_url, width=320)
        assert browser.axe() == []
        browser.screenshot(IMAGES / "page.png")
        browser.open(html_or_url, width=320, javascript=False)  # works without JavaScript?

Tools, found where ``nox -s tests_tools`` (and so ``.ci/run``) puts them:

- Debian's ``chromium`` and ``chromium-driver`` (``CHROMIUM``, ``CHROMEDRIVER`` override the
  paths), driven by ``selenium`` (the ``browser`` extra);
- axe-core, pinned by ``tests/axe/package-lock.json`` and installed with
  ``npm ci --prefix tests/axe`` (``AXE_CORE_JS`` overrides the script's path).

``require_tools()`` skips a test whose tools are missing, with the command that installs them,
except when ``SFN_CALLBACK_URLS_REQUIRE_TOOLS=1`` (set by ``nox -s tests_tools``): there a
missing tool fails the test, so CI never passes by looking at nothing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
AXE_CORE_JS = Path(
    os.environ.get(
        "AXE_CORE_JS", ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
    )
)
#: Where the docs' screenshots live (tests write them only when asked: ``screenshots_wanted()``).
IMAGES = ROOT / "docs" / "img"
#: The axe-core rule sets we hold pages to: WCAG 2.0-2.2 A and AA, and axe's best practices
#: (landmarks, one main heading, ...), which a screen reader user notices too.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
#: Phones are narrower than this (CSS px): below it the page is laid out as on a phone, honouring
#: its ``<meta name="viewport">`` (without one a phone draws a 980 px page, shrunk).
PHONE_WIDTH = 600
#: How long a click may take to show the next page (seconds): the demo's server and moto's
#: Step Functions answer in well under a second, even on a loaded CI machine.
NAVIGATION_TIMEOUT = 20

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",  # screenshots of the page, not of the scrollbar
    "--force-device-scale-factor=1",
)


def _tools_required() -> bool:
    return os.environ.get("SFN_CALLBACK_URLS_REQUIRE_TOOLS") == "1"


def missing_tools(*, axe: bool = True) -> list[str]:
    """What is missing to run a browser test, each with the command that installs it."""
    missing = []
    try:
        import selenium  # noqa: F401 - only to know it is there (it is optional)
    except ImportError:
        missing.append("selenium: pip install -e '.[browser]'")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing.append(
            f"{CHROMIUM} and {CHROMEDRIVER}: apt-get install -y chromium chromium-driver"
        )
    if axe and not AXE_CORE_JS.is_file():
        missing.append(f"axe-core ({AXE_CORE_JS}): npm ci --prefix tests/axe")
    return missing


def require_tools(*, axe: bool = True) -> None:
    """Skip (or, under ``SFN_CALLBACK_URLS_REQUIRE_TOOLS=1``, fail) when a tool is missing."""
    missing = missing_tools(axe=axe)
    if missing:
        reason = "browser tools missing: " + "; ".join(missing)
        if _tools_required():
            pytest.fail(reason)
        pytest.skip(reason)


def screenshots_wanted() -> bool:
    """Whether to (re)write the docs' screenshots: ``SFN_CALLBACK_URLS_SCREENSHOTS=1``.

    Off by default, so a test run never dirties the tree.
    """
    return os.environ.get("SFN_CALLBACK_URLS_SCREENSHOTS") == "1"


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks: its id, impact, help text and the offending elements."""

    rule: str
    impact: str | None
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} at {', '.join(self.targets)}"


class Browser:
    """One headless Chromium window: open a page at a width, check it, photograph it."""

    def __init__(self, driver: WebDriver, workdir: Path) -> None:
        self.driver = driver
        self._workdir = workdir
        self._javascript = True
        self._width = 0

    def open(
        self,
        page: str,
        *,
        width: int = 320,
        height: int = 640,
        javascript: bool = True,
    ) -> None:
        """Load ``page`` (an ``http(s):``, ``file:`` or ``about:`` URL, or an HTML document).

        The viewport is ``width`` x ``height`` CSS pixels, laid out as on a phone below
        PHONE_WIDTH. With ``javascript=False`` the page's own scripts do not run (as with
        JavaScript switched off, or a mail reader); the harness can still look at it.
        """
        if not page.startswith(("http://", "https://", "file://", "about:")):
            path = self._workdir / f"page-{uuid.uuid4().hex}.html"
            path.write_text(page, encoding="utf-8")
            page = path.as_uri()
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": width < PHONE_WIDTH,
            },
        )
        # Applies to every document this tab loads from now on, until switched back.
        self.driver.execute_cdp_cmd(
            "Emulation.setScriptExecutionDisabled", {"value": not javascript}
        )
        self._javascript = javascript
        self._width = width
        self.driver.get(page)

    def follow(self, target: WebElement) -> None:
        """Click ``target`` (a link, a button) and wait until the next page replaces this one.

        Read nothing of the next page before this returns: a question asked of an element while
        the next document is being committed fails in ways a wait does not retry.
        """
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.wait import WebDriverWait

        old = self.driver.find_element(By.TAG_NAME, "html")
        target.click()
        WebDriverWait(self.driver, NAVIGATION_TIMEOUT).until(lambda _: _replaced(old))

    def heading(self) -> str:
        """The page's one ``<h1>``, as shown (fails when there is none or more than one)."""
        from selenium.webdriver.common.by import By

        headings = self.driver.find_elements(By.TAG_NAME, "h1")
        assert len(headings) == 1, f"{len(headings)} <h1> on {self.driver.current_url}"
        return str(headings[0].text)

    def axe(self, *, tags: tuple[str, ...] = AXE_TAGS) -> list[Violation]:
        """Run axe-core inside the loaded page; return its violations (``[]`` for a clean page).

        axe-core is injected through the DevTools protocol, which a page's Content Security
        Policy does not govern, so strict pages are checked exactly as served.
        """
        if not self._javascript:
            msg = "axe-core runs inside the page: open it with javascript=True"
            raise RuntimeError(msg)
        source = AXE_CORE_JS.read_text(encoding="utf-8")
        options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
        expression = (
            f"{source}\n;axe.run(document, {json.dumps(options)})"
            ".then(r => JSON.stringify(r.violations))"
        )
        result = self.driver.execute_cdp_cmd(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            msg = f"axe-core failed in the page: {result['exceptionDetails']}"
            raise RuntimeError(msg)
        violations: list[dict[str, Any]] = json.loads(result["result"]["value"])
        return [
            Violation(
                rule=item["id"],
                impact=item.get("impact"),
                help=item["help"],
                targets=tuple(
                    " ".join(str(part) for part in node["target"]) for node in item["nodes"]
                ),
            )
            for item in violations
        ]

    def size(self) -> tuple[int, int]:
        """The page's full content size in CSS pixels (width, height), scripts or not."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics["cssContentSize"]
        return int(content["width"]), int(content["height"])

    def viewport_width(self) -> int:
        """The layout viewport's width in CSS pixels.

        A phone zooms out to fit content wider than its screen, so this is the width asked only
        while the page fits; ``overflows()`` is the question to ask.
        """
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        return int(metrics["cssLayoutViewport"]["clientWidth"])

    def overflows(self) -> bool:
        """Whether the page is wider than the width it was opened at (one would scroll sideways)."""
        return self.size()[0] > self._width

    def text(self) -> str:
        """The page's visible text."""
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def screenshot(self, path: Path | None = None) -> bytes:
        """A PNG of the whole page (not only the viewport); written to ``path`` when given."""
        width, height = self.size()
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        png = base64.b64decode(shot["data"])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        return png


def _replaced(element: WebElement) -> bool:
    """Whether ``element``'s document is no longer the one shown.

    chromedriver says so in two ways: a stale element reference (usually), or, when asked while
    the next document is being committed, a plain WebDriverException "Node with given id does not
    belong to the document". Selenium's ``staleness_of`` knows only the first; the second made a
    CI run fail, so both mean "replaced" here, and any other error still fails the test.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error.msg):
            return True
        raise
    return False


@contextmanager
def open_chromium(workdir: Path) -> Iterator[Browser]:
    """Start headless Chromium with a fresh profile under ``workdir``; quit it afterwards."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*_FLAGS, f"--user-data-dir={workdir / 'chromium-profile'}"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER, log_output=os.devnull)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield Browser(driver, workdir)
    finally:
        driver.quit()
