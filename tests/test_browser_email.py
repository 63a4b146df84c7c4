"""The approval e-mail as an approver sees it: headless Chromium at 320 and 600 px, axe-core.

With ``SFN_CALLBACK_URLS_SCREENSHOTS=1`` the screenshots docs/email.md shows are rewritten:
``docs/img/approval-email-320.png`` and ``docs/img/approval-email-600.png``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from browser_harness import IMAGES, Browser, screenshots_wanted
from helpers import synthetic_token  # tests/ is on sys.path
from sfn_callback_urls import (
    ApprovalEmail,
    Codec,
    EmailTheme,
    FailureAction,
    LocalKey,
    Minter,
    SuccessAction,
    approval_email,
)

pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[browser]'")
from selenium.webdriver.common.by import By


@pytest.fixture(scope="module")
def mail() -> ApprovalEmail:
    """The e-mail of docs/email.md, with real-length links (a 684-character token)."""
    minter = Minter(
        Codec(LocalKey.generate()),
        base_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod",
    )
    urls = minter.mint(
        synthetic_token(),
        [
            SuccessAction(name="approve", output={"approved": True}),
            FailureAction(name="reject", error="rejected", cause="Rejected by e-mail"),
        ],
        expires_in=timedelta(days=3),
        now=datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc),
    )
    return approval_email(
        urls,
        title="Deploy build 1234 to production?",
        details="Requested by Ana <ana@example.com>.\nIt goes live within minutes.",
        recipient_name="Ben",
        theme=EmailTheme(
            product_name="Acme Deploys",
            footer="Questions? Ask the platform team in #deploys.",
        ),
    )


@pytest.mark.parametrize("width", [320, 600])
def test_no_accessibility_violations_and_no_sideways_scrolling(
    chromium: Browser, mail: ApprovalEmail, width: int
) -> None:
    """axe-core (WCAG 2.x A/AA and best practices) finds nothing; the e-mail fits the width."""
    chromium.open(mail.html, width=width)
    assert [str(violation) for violation in chromium.axe()] == []
    assert not chromium.overflows()
    if screenshots_wanted():
        chromium.screenshot(IMAGES / f"approval-email-{width}.png")


@pytest.mark.parametrize("width", [320, 600])
def test_everything_shows_without_javascript(
    chromium: Browser, mail: ApprovalEmail, width: int
) -> None:
    """With scripts off (as in a mail reader) the title, details, buttons and links all show."""
    chromium.open(mail.html, width=width, javascript=False)
    text = chromium.text()
    assert "Deploy build 1234 to production?" in text
    assert "Requested by Ana <ana@example.com>.\nIt goes live within minutes." in text
    assert "These links expire 6 Dec 2026, 14:00 UTC." in text
    for label in ("Approve", "Reject"):
        button = chromium.driver.find_element(By.LINK_TEXT, label)
        assert button.is_displayed()
        href = button.get_attribute("href")
        assert href in text  # the same link, written out


def test_buttons_side_by_side_when_wide_and_stacked_on_a_phone(
    chromium: Browser, mail: ApprovalEmail
) -> None:
    """At 600 px the two buttons share a row; at 320 px the second is below the first."""
    rows = {}
    for width in (320, 600):
        chromium.open(mail.html, width=width)
        approve, reject = (
            chromium.driver.find_element(By.LINK_TEXT, label).rect
            for label in ("Approve", "Reject")
        )
        assert approve["height"] >= 44  # a finger's target size (WCAG 2.5.5)
        assert approve["width"] >= 44
        rows[width] = reject["y"] > approve["y"] + approve["height"] / 2
    assert rows == {320: True, 600: False}
