"""Tests of render.py: content negotiation, bodies, redirects and security headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfn_callback_urls._models import ResponseSpec, SuccessAction
from sfn_callback_urls._render import (
    BUILTIN_HTML_CSP,
    CUSTOM_HTML_CSP,
    HTML,
    JSON,
    SECURITY_HEADERS,
    TEXT,
    CallbackResponse,
    MediaType,
    negotiate,
    render_confirm,
    render_error,
    render_success,
)
from sfn_callback_urls._validation import parse_action
from sfn_callback_urls.errors import (
    InvalidPayload,
    MethodNotAllowed,
    OutputFormatting,
    SfnCallbackUrlsError,
    TaskAlreadyCompleted,
)

TID = "0b6d5f7e-1f0a-4c59-9a51-3f1d2b8e6a10"
APPROVE = SuccessAction(name="approve", output={"ok": True})


def assert_secure(response: CallbackResponse) -> None:
    """The response carries every security header."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def success(response: ResponseSpec | None, media_type: MediaType) -> CallbackResponse:
    """Render the approve action's success."""
    return render_success(APPROVE, transaction_id=TID, response=response, media_type=media_type)


# --- negotiation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("application/json", JSON),
        ("text/html", HTML),
        ("text/plain", TEXT),
        ("*/*", JSON),
        ("image/png", JSON),
        ("application/*", JSON),
        ("text/*", HTML),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
        ("text/plain, application/json", TEXT),
        ("application/json;q=0.5, text/plain", TEXT),
        ("text/html;q=0.2, text/plain;q=0.9, application/json;q=0.1", TEXT),
        ("text/html;q=0, */*", JSON),
        ("*/*;q=0.1, text/html;q=0", JSON),
        ("text/*;q=0.5, text/plain;q=0", HTML),
        ("application/json;q=0", JSON),
        ("text/html;q=abc, text/plain", TEXT),
        ("text/html;q=2", JSON),
        ("TEXT/HTML", HTML),
        (" text/plain ; charset=utf-8 ; q=1 ", TEXT),
        (",,;,", JSON),
    ],
)
def test_negotiate(accept: str | None, expected: MediaType) -> None:
    """Accept headers with q-values and wildcards choose JSON, HTML or text; JSON otherwise."""
    assert negotiate(accept) == expected


def test_negotiate_huge_header_is_json() -> None:
    """An implausibly long Accept header is ignored."""
    assert negotiate("text/html," * 5000) == JSON


# --- success ----------------------------------------------------------------------------------


def test_default_json_body_is_the_contract() -> None:
    """The default JSON body is {"transaction_id", "action": {"name", "type"}}."""
    response = success(None, JSON)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == {
        "transaction_id": TID,
        "action": {"name": "approve", "type": "success"},
    }
    assert_secure(response)
    assert "Content-Security-Policy" not in response.headers


def test_default_html_page() -> None:
    """The default HTML page is friendly, self-contained and under a strict CSP."""
    response = success(None, HTML)
    page = response.body.decode()
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Approved</h1>" in page
    assert "Your answer was recorded. You can close this page." in page
    assert TID in page
    assert "<script" not in page
    assert "http" not in page  # nothing fetched from anywhere
    assert response.headers["Content-Security-Policy"] == BUILTIN_HTML_CSP
    assert "default-src 'none'" in BUILTIN_HTML_CSP
    assert_secure(response)


def test_default_text_body() -> None:
    """The default text body says what was recorded."""
    response = success(None, TEXT)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert (
        response.body.decode() == f"Done: your response 'approve' was recorded.\nReference: {TID}\n"
    )


def test_custom_bodies_by_media_type() -> None:
    """The README's custom json/html/text bodies are chosen by the negotiated type."""
    spec = ResponseSpec.model_validate(
        {"json": {"hello": "world"}, "html": "<html>hello, world</html>", "text": "hello, world"}
    )
    assert json.loads(success(spec, JSON).body) == {"hello": "world"}
    html_response = success(spec, HTML)
    assert html_response.body == b"<html>hello, world</html>"
    assert html_response.headers["Content-Security-Policy"] == CUSTOM_HTML_CSP
    assert_secure(html_response)
    assert success(spec, TEXT).body == b"hello, world"


def test_partial_custom_spec_falls_back_to_defaults() -> None:
    """A custom body for one type leaves the others at their defaults."""
    spec = ResponseSpec(text="only text")
    assert json.loads(success(spec, JSON).body)["transaction_id"] == TID
    assert b"<h1>Approved</h1>" in success(spec, HTML).body
    assert success(spec, TEXT).body == b"only text"


@pytest.mark.parametrize("value", [False, 0, "", [], {}])
def test_custom_json_falsy_values_are_kept(value: object) -> None:
    """A custom JSON body that is falsy (but not null) is still served."""
    spec = ResponseSpec.model_validate({"json": value})
    assert json.loads(success(spec, JSON).body) == value


@pytest.mark.parametrize("media_type", [JSON, HTML, TEXT])
def test_redirect_is_303_with_location(media_type: MediaType) -> None:
    """A redirect answers 303 with Location, whatever the Accept header."""
    response = success(ResponseSpec(redirect="https://example.com/thanks?x=1"), media_type)
    assert response.status == 303
    assert response.headers["Location"] == "https://example.com/thanks?x=1"
    assert response.body == b""
    assert_secure(response)


def test_names_are_escaped_in_builtin_pages() -> None:
    """Values from a blob are escaped in the built-in HTML pages (defence in depth)."""
    action = parse_action({"name": "approve", "type": "heartbeat"})
    evil_tid = "<img src=x onerror=alert(1)>"
    page = render_success(action, transaction_id=evil_tid, response=None, media_type=HTML).body
    assert b"<img" not in page
    assert b"&lt;img src=x onerror=alert(1)&gt;" in page


# --- confirmation -----------------------------------------------------------------------------


def test_confirm_html_page_posts_to_same_url() -> None:
    """The confirmation page has a POST form to the same URL and one button."""
    response = render_confirm(APPROVE, transaction_id=TID, media_type=HTML)
    page = response.body.decode()
    assert response.status == 200
    assert "<h1>Approve this request?</h1>" in page
    assert "Your answer is recorded only when you press the button." in page
    assert '<form method="post" action="">' in page
    assert '<button type="submit">Approve</button>' in page
    assert page.count("<button") == 1
    assert response.headers["Content-Security-Policy"] == BUILTIN_HTML_CSP
    assert "form-action 'self'" in BUILTIN_HTML_CSP
    assert_secure(response)


def test_confirm_json_and_text() -> None:
    """JSON clients get {"confirm": true, "action", "message"}; text clients a sentence."""
    body = json.loads(render_confirm(APPROVE, transaction_id=TID, media_type=JSON).body)
    assert body["confirm"] is True
    assert body["action"] == {"name": "approve", "type": "success"}
    assert body["transaction_id"] == TID
    assert "POST" in body["message"]
    text = render_confirm(APPROVE, transaction_id=TID, media_type=TEXT).body.decode()
    assert text.startswith("Confirm: approve?\n")
    assert "POST" in text


# --- errors -----------------------------------------------------------------------------------


def test_error_json_body_is_the_contract() -> None:
    """Errors answer {"error": code, "message": message} with their status."""
    response = render_error(TaskAlreadyCompleted(), JSON)
    assert response.status == 409
    assert json.loads(response.body) == {
        "error": "TaskAlreadyCompleted",
        "message": "This task has already been completed or has expired.",
    }
    assert_secure(response)


def test_error_html_and_text() -> None:
    """HTML errors say what happened in plain words (code small); text shows the message."""
    error = InvalidPayload("bad <b>thing</b> & more")
    page = render_error(error, HTML).body.decode()
    assert "<h1>This link doesn&#x27;t work</h1>" in page
    assert "bad" not in page  # a link that does not open says nothing about why
    assert '<p class="small">Code: InvalidPayload</p>' in page
    other = render_error(OutputFormatting("bad <b>thing</b> & more"), HTML).body.decode()
    assert "bad &lt;b&gt;thing&lt;/b&gt; &amp; more" in other  # for support, escaped
    text = render_error(error, TEXT)
    assert text.body.decode() == "Error (InvalidPayload): bad <b>thing</b> & more\n"
    assert text.status == 400


def test_error_with_correlation_id_and_headers() -> None:
    """Server errors show their correlation id; extra headers (Allow) are added."""
    response = render_error(SfnCallbackUrlsError(), JSON, correlation_id="abc-123")
    assert response.status == 500
    assert json.loads(response.body) == {
        "error": "InternalError",
        "message": "An internal error occurred.",
        "correlation_id": "abc-123",
    }
    assert b"abc-123" in render_error(SfnCallbackUrlsError(), HTML, correlation_id="abc-123").body
    assert b"abc-123" in render_error(SfnCallbackUrlsError(), TEXT, correlation_id="abc-123").body
    not_allowed = render_error(MethodNotAllowed(allowed=("POST",)), TEXT, headers={"Allow": "POST"})
    assert not_allowed.status == 405
    assert not_allowed.headers["Allow"] == "POST"


@given(
    transaction_id=st.one_of(st.uuids().map(str), st.text(max_size=40)),
    name=st.from_regex(r"[A-Za-z0-9_]{1,64}", fullmatch=True),
)
def test_the_default_success_body_is_the_contracts_json(transaction_id: str, name: str) -> None:
    """The success body built without json.dumps is byte for byte json.dumps' (or falls back)."""
    from sfn_callback_urls import SuccessAction
    from sfn_callback_urls._render import _success_json

    action = SuccessAction(name=name, output=None)
    expected = {"transaction_id": transaction_id, "action": {"name": name, "type": "success"}}
    body = _success_json(transaction_id, action)
    assert json.loads(body) == expected
    assert body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
