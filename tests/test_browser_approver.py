"""The approver's pages looked at as a person would: headless Chromium, axe-core, 320 px, no JS.

The ready Lambda app (``process_callback_handler``) serves the pages over loopback HTTP as a
function URL would (each request becomes a function URL event), on real moto executions, so
Chromium loads them under their real headers (the strict CSP included) and submits their real
forms. Every page is checked at 320 px wide: axe-core finds no violation (WCAG A/AA and best
practices, landmarks among them), the page does not scroll sideways, and it has a ``main``
landmark and one heading. The click-through is done with JavaScript switched off.

With ``SFN_CALLBACK_URLS_SCREENSHOTS=1`` each page is saved to ``docs/img/approver-*.png``
(shown in ``docs/approver-pages.md``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
from botocore.exceptions import ClientError

from browser_harness import IMAGES, Browser, screenshots_wanted
from helpers import FakeStepFunctions, event_for  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    ConfirmPage,
    FailureAction,
    LocalKey,
    Minter,
    SuccessAction,
)
from sfn_callback_urls._config import (
    ENV_BASE_URL,
    ENV_CHECK_TASK_BEFORE_CONFIRM,
    ENV_KEY,
    ENV_PAGE_THEME,
)
from sfn_callback_urls._server import LocalServer
from sfn_callback_urls.aws_lambda import create_urls_handler, process_callback_handler, reset_app
from sfn_callback_urls.testing import ApprovalMachine

WIDTH = 320
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TITLE = "Deploy build 1234 to production?"
DETAILS = (
    "Requested by Ana Lima for the Friday release.\n"
    "Changes: 12 commits, 3 migrations.\n"
    "Rollback plan: <previous image> & a restore."
)


def lambda_over_http(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that hands each request to the ready Lambda handler as a function URL event."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    url = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}"
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    event = event_for(url, "function_url", method=environ["REQUEST_METHOD"], headers=headers)
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    answer = process_callback_handler(event, None)
    data = answer.get("body") or ""
    raw = base64.b64decode(data) if answer.get("isBase64Encoded") else data.encode()
    status = f"{answer['statusCode']} -"
    start_response(status, [(name, str(value)) for name, value in answer["headers"].items()])
    return [raw]


@pytest.fixture
def site(app_env: pytest.MonkeyPatch) -> Iterator[str]:
    """The ready Lambda app on loopback HTTP; its base URL (callback URLs are minted for it)."""
    server = LocalServer(lambda_over_http).start()  # what `serve` and the demo run
    app_env.setenv(ENV_BASE_URL, server.url)
    reset_app()
    try:
        yield server.url
    finally:
        server.stop()


def mint(token: str, *actions: dict[str, Any]) -> dict[str, str]:
    """The URLs the ready app mints."""
    created = create_urls_handler({"token": token, "actions": list(actions)}, None)
    assert "error" not in created, created
    return dict(created["urls"])


def context(name: str, kind: str, comment: str, **extra: Any) -> dict[str, Any]:
    """An action whose confirm page has the sender's title and details and a comment box."""
    confirm = {"title": TITLE, "details": DETAILS, "comment": comment}
    return {"name": name, "type": kind, **extra, "confirm": confirm}


def approve_and_reject() -> tuple[dict[str, Any], dict[str, Any]]:
    """The two actions of the docs' example: approve (optional comment), reject (reason)."""
    return (
        context("approve", "success", "optional", output={"build": 1234}),
        context("reject", "failure", "required", error="rejected"),
    )


def looks_right(browser: Browser, name: str) -> None:
    """The page as loaded: landmarks, no axe-core violation, no sideways scroll; photographed."""
    from selenium.webdriver.common.by import By

    assert len(browser.driver.find_elements(By.TAG_NAME, "main")) == 1
    assert browser.driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    violations = browser.axe()
    assert violations == [], "\n".join(map(str, violations))
    assert not browser.overflows(), f"{name} is wider than {WIDTH} px"
    if screenshots_wanted():
        browser.screenshot(IMAGES / f"approver-{name}.png")


def type_and_submit(browser: Browser, text: str) -> None:
    """Type into the comment box (if any) and press the form's button, as a person would."""
    from selenium.webdriver.common.by import By

    if text:
        box = browser.driver.find_element(By.ID, "comment")
        box.clear()
        box.send_keys(text)
    browser.follow(browser.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def status_of(machine: ApprovalMachine, execution: str) -> dict[str, Any]:
    """The finished execution."""
    return dict(machine.wait_for_status(execution))


# --- the flow, clicked ----------------------------------------------------------------------------


def test_approve_with_a_comment_without_javascript(
    chromium: Browser, site: str, approval_machine: ApprovalMachine
) -> None:
    """A phone without JavaScript: the page shows the context, the comment lands in the output."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, *approve_and_reject())

    chromium.open(urls["approve"], width=WIDTH, javascript=False)
    assert chromium.heading() == TITLE
    assert "Rollback plan: <previous image> & a restore." in chromium.text()
    assert "Comment (optional)" in chromium.text()
    assert approval_machine.wait_for_status(execution, {"RUNNING"})["status"] == "RUNNING"
    type_and_submit(chromium, "Checked the migrations.\nGo ahead <3")

    assert chromium.heading() == "Approved"
    assert "Checked the migrations.\nGo ahead <3" in chromium.text()
    output = json.loads(status_of(approval_machine, execution)["output"])["output"]
    assert output == {"build": 1234, "comment": "Checked the migrations.\nGo ahead <3"}


def test_reject_needs_a_reason_and_records_it_as_the_cause(
    chromium: Browser,
    site: str,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """A blank reason gets the form again with "Please add a reason."; the reason is the cause.

    The browser's own ``required`` check lets spaces through; the server refuses them. moto
    drops the cause of SendTaskFailure: it is asserted on the call.
    """
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, *approve_and_reject())

    chromium.open(urls["reject"], width=WIDTH, javascript=False)
    type_and_submit(chromium, "   ")
    assert chromium.heading() == TITLE
    assert "Please add a reason." in chromium.text()
    assert [name for name, _ in sfn_calls] == []

    type_and_submit(chromium, "The migration has no rollback.")
    assert chromium.heading() == "Rejected"
    assert status_of(approval_machine, execution)["status"] == "SUCCEEDED"  # caught
    failures = [params for name, params in sfn_calls if name == "SendTaskFailure"]
    assert [call["cause"] for call in failures] == ["The migration has no rollback."]


# --- every page, checked --------------------------------------------------------------------------


def test_every_page_of_the_flow_is_accessible_at_320_px(
    chromium: Browser, site: str, heartbeat_machine: ApprovalMachine, app_env: Any
) -> None:
    """Confirm (with and without a comment), refused, done, already answered: axe-clean at 320 px.

    The already-answered check needs a heartbeat; moto answers one only for a task with
    ``HeartbeatSeconds``, so this machine has one.
    """
    app_env.setenv(ENV_CHECK_TASK_BEFORE_CONFIRM, "true")
    reset_app()
    execution = heartbeat_machine.start("Ben")
    token, _ = heartbeat_machine.wait_for_token()
    approve, reject = approve_and_reject()
    plain = {"name": "approve", "type": "success", "output": {}, "confirm": True}
    urls = mint(token, approve, reject)

    chromium.open(mint(token, plain)["approve"], width=WIDTH)
    assert chromium.heading() == "Approve this request?"
    looks_right(chromium, "confirm-plain")

    chromium.open(urls["reject"], width=WIDTH)
    assert chromium.heading() == TITLE
    looks_right(chromium, "confirm-reason")

    type_and_submit(chromium, " ")
    assert "Please add a reason." in chromium.text()
    looks_right(chromium, "comment-refused")

    chromium.open(urls["approve"], width=WIDTH)
    looks_right(chromium, "confirm-comment")
    type_and_submit(chromium, "Checked the migrations. Go ahead.")
    assert chromium.heading() == "Approved"
    looks_right(chromium, "done-approved")
    heartbeat_machine.wait_for_status(execution)

    chromium.open(urls["reject"], width=WIDTH)
    assert chromium.heading() == "Already answered"
    looks_right(chromium, "already-answered")


def test_a_rejection_done_page_is_accessible(
    chromium: Browser, site: str, approval_machine: ApprovalMachine
) -> None:
    """The failure's done page, with the approver's reason, escaped."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, *approve_and_reject())
    chromium.open(urls["reject"], width=WIDTH)
    type_and_submit(chromium, "No rollback plan for <the> migration.")
    assert chromium.heading() == "Rejected"
    assert "No rollback plan for <the> migration." in chromium.text()
    looks_right(chromium, "done-rejected")


def test_broken_and_expired_links_are_accessible(
    chromium: Browser, site: str, app_env: Any
) -> None:
    """An expired link and a cut-short one: plain words, no retry that cannot work."""
    import os

    codec = Codec(LocalKey.from_string(os.environ[ENV_KEY]))
    past = datetime.now(timezone.utc) - timedelta(days=10)
    expired = Minter(codec, site).mint(
        "t" * 40,
        [SuccessAction(name="approve", output={}, confirm=ConfirmPage(title=TITLE))],
        expires_in=timedelta(days=3),
        now=past,
    )
    chromium.open(expired.urls["approve"], width=WIDTH)
    assert chromium.heading() == "This link has expired"
    assert "Ask the person who sent it for a new one." in chromium.text()
    assert "try again" not in chromium.text().lower()
    looks_right(chromium, "expired")

    valid = Minter(codec, site).mint("t" * 40, [FailureAction(name="reject")]).urls["reject"]
    parts = urlsplit(valid)
    query = dict(parse_qsl(parts.query))
    query["data"] = query["data"][: len(query["data"]) // 2]  # cut short, as a mail client might
    cut = urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())))
    chromium.open(cut, width=WIDTH)
    assert chromium.heading() == "This link doesn't work"
    looks_right(chromium, "invalid")


@pytest.mark.parametrize(
    ("code", "name", "words"),
    [
        ("ThrottlingException", "unavailable", "We couldn't record your answer yet"),
        ("AccessDeniedException", "our-fault", "Something went wrong on our side"),
    ],
)
def test_server_side_pages_are_accessible(
    chromium: Browser, tmp_path: Any, code: str, name: str, words: str
) -> None:
    """Step Functions throttled (503) and a server error: the page says the answer was not recorded.

    moto cannot throttle: the handler gets a client that answers with AWS's error, and the page
    it renders is opened from a file.
    """
    codec = Codec(LocalKey.generate())
    url = Minter(codec, "https://example.com").mint("t" * 40, [FailureAction(name="reject")])
    error = ClientError({"Error": {"Code": code, "Message": "no"}}, "SendTaskFailure")
    handler = CallbackHandler(codec, stepfunctions_client=FakeStepFunctions(error))
    query = url.urls["reject"].split("?", 1)[1]
    response = handler.handle(CallbackRequest("GET", query, {"Accept": BROWSER}))
    assert response.status in (502, 503)
    chromium.open(response.body.decode(), width=WIDTH)
    assert chromium.heading() == words
    looks_right(chromium, name)


def test_a_themed_page_is_accessible(
    chromium: Browser, site: str, approval_machine: ApprovalMachine, app_env: Any
) -> None:
    """A team's product name, accent colour and footer: banner and contentinfo landmarks, clean."""
    from selenium.webdriver.common.by import By

    theme = {
        "product_name": "Acme Deploys",
        "accent_color": "#8250df",
        "footer": "Questions? Write to ops@example.com.",
    }
    app_env.setenv(ENV_PAGE_THEME, json.dumps(theme))
    reset_app()
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    chromium.open(mint(token, *approve_and_reject())["approve"], width=WIDTH)
    assert browser_text(chromium, "header") == "Acme Deploys"
    assert browser_text(chromium, "footer") == theme["footer"]
    assert chromium.driver.title == f"{TITLE} \u00b7 Acme Deploys"
    button = chromium.driver.find_element(By.CSS_SELECTOR, "form button")
    assert button.value_of_css_property("background-color") == "rgba(130, 80, 223, 1)"
    looks_right(chromium, "themed")


def browser_text(browser: Browser, tag: str) -> str:
    """The visible text of the page's one ``tag`` element."""
    from selenium.webdriver.common.by import By

    (element,) = browser.driver.find_elements(By.TAG_NAME, tag)
    return str(element.text)
