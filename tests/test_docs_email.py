"""docs/email.md: the SES snippet sends the e-mail it shows, and its links answer a real task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from helpers import (
    REGION,
    load_snippet,
    markdown_snippets,
    synthetic_token,
)  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    LocalKey,
    Minter,
    approval_email,
)
from sfn_callback_urls.testing import ApprovalMachine

DOC = Path(__file__).resolve().parents[1] / "docs" / "email.md"
KEY = LocalKey.generate().to_string()
EVENT = {
    "build": "1234",
    "requested_by": "Ana <ana@example.com>",
    "approver": {"name": "Ben", "email": "ben@example.com"},
}


def test_the_page_shows_these_snippets() -> None:
    """The tests below run every Python snippet the page shows."""
    assert sorted(markdown_snippets(DOC)) == ["same_words.py", "send_approval.py", "theme_de.py"]


@pytest.fixture
def snippet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import a snippet of the page with its environment (the key)."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", KEY)
    snippets = markdown_snippets(DOC)
    return lambda name: load_snippet(tmp_path, name, snippets[name])


def test_the_snippet_sends_both_parts_and_the_link_approves(
    snippet: Any, approval_machine: ApprovalMachine
) -> None:
    """SES gets the subject, HTML and text parts; the e-mail's Approve link ends the task."""
    boto3.client("ses", region_name=REGION).verify_email_identity(
        EmailAddress="approvals@example.com"
    )
    module = snippet("send_approval.py")
    calls: list[dict[str, Any]] = []
    module.ses.meta.events.register(
        "provide-client-params.ses.SendEmail", lambda params, **_: calls.append(params)
    )
    execution = approval_machine.start()
    token, _ = approval_machine.wait_for_token()

    module.handler({"token": token, **EVENT}, None)

    (sent,) = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert sent.destinations["ToAddresses"] == ["ben@example.com"]
    assert sent.subject == "Approval needed: Deploy build 1234 to production?"
    # moto keeps the HTML part only; the text part is read from the call itself.
    message = calls[0]["Message"]
    html, text = sent.body, message["Body"]["Text"]["Data"]
    assert html == message["Body"]["Html"]["Data"]
    assert "Requested by Ana &lt;ana@example.com&gt;." in html
    assert "Requested by Ana <ana@example.com>." in text
    assert "Acme Deploys" in html
    approve = next(line for line in text.splitlines() if "action=approve" in line)
    assert f'href="{approve.replace("&", "&amp;")}"' in html

    callbacks = CallbackHandler(Codec.from_environment())
    answer = callbacks.handle(CallbackRequest(method="GET", query=urlsplit(approve).query))
    assert answer.status == 200
    described = approval_machine.wait_for_status(execution)
    assert json.loads(described["output"])["output"] == {"approved": True}


def test_the_german_theme_makes_a_german_email(snippet: Any) -> None:
    """The theme snippet is valid and every English word is replaced."""
    theme = snippet("theme_de.py").THEME
    mail = approval_email(
        {"approve": "https://example.com/respond?action=approve"},
        title="Build 1234 ausrollen?",
        labels={"approve": "Freigeben"},
        theme=theme,
    )
    assert mail.subject == "Freigabe nötig: Build 1234 ausrollen?"
    assert '<html lang="de">' in mail.html
    assert "bitte nicht weiterleiten." in mail.text
    assert "forward" not in mail.text


def test_the_confirm_page_asks_what_the_email_asks(snippet: Any) -> None:
    """Sealing the e-mail's title and details in ConfirmPage: the link's page shows both."""
    module = snippet("same_words.py")
    codec = Codec.from_environment()
    mail = module.approval(
        Minter(codec, base_url="https://approvals.example.com"), synthetic_token()
    )
    approve = next(line for line in mail.text.splitlines() if "action=approve" in line)
    page = CallbackHandler(codec).handle(
        CallbackRequest(
            method="GET", query=urlsplit(approve).query, headers={"Accept": "text/html"}
        )
    )
    assert page.status == 200
    shown = page.body.decode()
    assert "<h1>Deploy build 1234 to production?</h1>" in shown
    assert "Requested by Ana. 12 commits since the last deploy." in shown
    assert "Deploy build 1234 to production?\n\nRequested by Ana." in mail.text
