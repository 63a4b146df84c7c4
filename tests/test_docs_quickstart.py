"""docs/quickstart.md: every snippet runs as written, against real executions on moto."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from helpers import load_event, load_snippet, markdown_snippets  # tests/ is on sys.path
from sfn_callback_urls import CallbackResponse, LocalKey
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "quickstart.md"
SNIPPETS = [
    "any_framework.py",
    "asgi_app.py",
    "callbacks.py",
    "mint.py",
    "original_request.py",
    "wsgi_app.py",
]
KEY = LocalKey.generate().to_string()
PURPOSE = "prod/approvals"


def test_the_page_shows_these_snippets() -> None:
    """The tests below run every Python snippet the page shows."""
    assert sorted(markdown_snippets(DOC)) == SNIPPETS


@pytest.fixture
def load(
    tmp_path: Path,
    moto_sfn: MotoClients,
    monkeypatch: pytest.MonkeyPatch,
    fresh_default_client: None,
) -> Any:
    """Import a snippet with the page's environment: the key and the purpose."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", KEY)
    monkeypatch.setenv("SFN_CALLBACK_URLS_PURPOSE", PURPOSE)
    snippets = markdown_snippets(DOC)

    def load_doc_snippet(name: str) -> ModuleType:
        return load_snippet(tmp_path, name, snippets[name])

    return load_doc_snippet


def mint(load: Any, machine: ApprovalMachine) -> tuple[str, dict[str, str]]:
    """Start an execution and run the page's minting Lambda on its token."""
    execution = machine.start()
    token, _ = machine.wait_for_token()
    urls = load("mint.py").handler({"token": token, "email": "ben@example.com"}, None)
    assert urls["email"] == "ben@example.com"
    return execution, urls


def ended(machine: ApprovalMachine, execution: str) -> Any:
    """The execution's final output (it must have ended, SUCCEEDED through the Catch or not)."""
    described = machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    return json.loads(described["output"])["output"]


def test_mint_then_the_lambda_callbacks_confirm_and_approve(
    load: Any, approval_machine: ApprovalMachine
) -> None:
    """The Lambda tab: a GET asks (confirm_get), the button's POST approves the real task."""
    execution, urls = mint(load, approval_machine)
    callbacks = load("callbacks.py")
    query = urlsplit(urls["approve"]).query
    event = load_event("apigw_v2")
    event.update(rawPath="/prod/respond", rawQueryString=query, queryStringParameters=None)
    event["headers"]["accept"] = "application/json"
    event["requestContext"]["http"]["method"] = "GET"
    asked = callbacks.handler(event, None)
    assert asked["statusCode"] == 200
    assert json.loads(asked["body"])["confirm"] is True
    event["requestContext"]["http"]["method"] = "POST"
    assert callbacks.handler(event, None)["statusCode"] == 200
    assert ended(approval_machine, execution) == {"approved": True}


def test_the_wsgi_app_rejects(load: Any, approval_machine: ApprovalMachine) -> None:
    """The WSGI tab: POSTing the reject link fails the task; the machine's Catch takes it."""
    execution, urls = mint(load, approval_machine)
    app = load("wsgi_app.py").app
    parts = urlsplit(urls["reject"])
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "CONTENT_LENGTH": "0",
        "HTTP_ACCEPT": "application/json",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses == ["200 OK"]
    assert ended(approval_machine, execution)["Error"] == "rejected"


def test_the_asgi_app_approves(load: Any, approval_machine: ApprovalMachine) -> None:
    """The ASGI tab: a POST to the approve link through the ASGI 3 app completes the task."""
    execution, urls = mint(load, approval_machine)
    app = load("asgi_app.py").app
    parts = urlsplit(urls["approve"])
    scope = {
        "type": "http",
        "method": "POST",
        "path": parts.path,
        "query_string": parts.query.encode(),
        "headers": [(b"accept", b"application/json"), (b"content-length", b"0")],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert ended(approval_machine, execution) == {"approved": True}


def test_any_framework_respond_approves(load: Any, approval_machine: ApprovalMachine) -> None:
    """The other-framework tab (examples/frameworks/any_framework.py): a POST completes the task.

    The answer is a CallbackResponse, whose status, headers and body any framework takes.
    """
    execution, urls = mint(load, approval_machine)
    respond = load("any_framework.py").respond
    answer = respond("POST", urlsplit(urls["approve"]).query, {"accept": "application/json"}, b"")
    assert isinstance(answer, CallbackResponse)
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert json.loads(answer.body)["action"] == {"name": "approve", "type": "success"}
    assert ended(approval_machine, execution) == {"approved": True}


def test_the_original_request_mints_urls_that_approve(
    load: Any, approval_machine: ApprovalMachine
) -> None:
    """The original request snippet mints a week ahead, whatever today is; its approve works."""
    execution = approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    minted = load("original_request.py").handler({"token": token}, None)
    expires = datetime.fromisoformat(minted["expiration"].replace("Z", "+00:00"))
    assert expires - datetime.now(timezone.utc) > timedelta(days=6)
    answer = load("any_framework.py").respond(
        "POST", urlsplit(minted["urls"]["approve"]).query, {}, b""
    )
    assert answer.status == 200
    assert ended(approval_machine, execution) == {"approved": True}


def test_no_page_shows_a_fixed_expiration() -> None:
    """No user page or the README writes a fixed expiration date into a request.

    It would expire, and the example with it.
    """
    root = DOC.parents[1]
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        found = re.findall(r'"expiration"\s*:\s*"\d{4}-', page.read_text(encoding="utf-8"))
        assert not found, page.name


def test_the_check_step_opens_what_was_minted(load: Any, approval_machine: ApprovalMachine) -> None:
    """`sfn-callback-urls inspect URL` in the same environment says valid (the page's check)."""
    _, urls = mint(load, approval_machine)
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "sfn_callback_urls", "inspect", urls["approve"]],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["claims"]["action"]["name"] == "approve"
