"""A real browser where a person clicks: headless Chromium on the demo's approval e-mail.

Chromium is started by tests/browser_harness.py (the ``chromium`` fixture), which says what to
install when a tool is missing. With ``SFN_CALLBACK_URLS_SCREENSHOTS=1`` the e-mail and the
accepted page are saved to ``docs/img/demo-email.png`` and ``docs/img/demo-accepted.png``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_harness import IMAGES, Browser, screenshots_wanted
from sfn_callback_urls._demo import Demo

pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[browser]'")
from selenium.webdriver.common.by import By

WINDOW = (760, 620)


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    """The session's headless Chromium, at a desktop mail reader's size, JavaScript on."""
    chromium.open("about:blank", width=WINDOW[0], height=WINDOW[1])
    return chromium


@pytest.fixture
def demo(aws_env: None, tmp_path: Path) -> Iterator[Demo]:
    """The demo's flow, started: moto, a waiting execution, the server and the e-mail file."""
    with Demo(out_dir=tmp_path / "mail") as running:
        yield running


@pytest.fixture
def confirm_demo(aws_env: None, tmp_path: Path) -> Iterator[Demo]:
    """The demo in link-scanner-safe mode: a GET asks, the page's button POSTs."""
    with Demo(out_dir=tmp_path / "mail", confirm_get=True) as running:
        yield running


def screenshot(browser: Browser, name: str) -> None:
    """Save a screenshot for the docs, only when asked (CI must not dirty the tree)."""
    if screenshots_wanted():
        IMAGES.mkdir(parents=True, exist_ok=True)
        browser.driver.save_screenshot(str(IMAGES / name))


def test_click_approve_in_the_email(browser: Browser, demo: Demo) -> None:
    """Opening the e-mail and clicking Approve shows the accepted page; the execution succeeds."""
    browser.driver.get(demo.email_path.as_uri())
    assert "Approve Ben's request?" in browser.text()
    screenshot(browser, "demo-email.png")
    assert demo.status() == "RUNNING"
    browser.follow(browser.driver.find_element(By.LINK_TEXT, "Approve"))
    assert browser.heading() == "Approved"
    assert browser.driver.current_url.startswith(demo.server_url)
    screenshot(browser, "demo-accepted.png")
    result = demo.wait(timeout=15)
    assert result.status == "SUCCEEDED"
    assert result.ended_as("approve", "Ben")
    assert result.confirmation_text == "Hello Ben, your task is complete"


def test_click_reject_in_the_email(browser: Browser, demo: Demo) -> None:
    """Clicking Reject fails the task with "rejected", which the machine catches."""
    browser.driver.get(demo.email_path.as_uri())
    browser.follow(browser.driver.find_element(By.LINK_TEXT, "Reject"))
    assert browser.heading() == "Rejected"
    result = demo.wait(timeout=15)
    assert result.ended_as("reject", "Ben")


def test_confirm_mode_get_changes_nothing_button_completes(
    browser: Browser, confirm_demo: Demo
) -> None:
    """Confirm mode: a link scanner's GET and the link itself change nothing; the button does."""
    demo = confirm_demo
    with urllib.request.urlopen(demo.urls["approve"], timeout=10) as scanned:  # noqa: S310
        assert scanned.status == 200
    assert demo.status() == "RUNNING"

    browser.driver.get(demo.email_path.as_uri())
    browser.follow(browser.driver.find_element(By.LINK_TEXT, "Approve"))
    # The confirm page asks what the e-mail asks: the demo seals the e-mail's title in it.
    assert browser.heading() == "Approve Ben's request?"
    assert demo.status() == "RUNNING"

    browser.follow(browser.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert browser.heading() == "Approved"
    result = demo.wait(timeout=15)
    assert result.status == "SUCCEEDED"
    assert result.ended_as("approve", "Ben")
