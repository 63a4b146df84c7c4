"""Tests of handler.py: a CallbackRequest in, a CallbackResponse out, one log line per request."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from helpers import blob_of, record_fields, synthetic_token  # tests/ is on sys.path
from original_readme import README_POST_ACTION  # tests/ is on sys.path
from sfn_callback_urls._codec import Codec
from sfn_callback_urls._complete import Completion
from sfn_callback_urls._handler import (
    LOGGER_NAME,
    CallbackHandler,
    CallbackRequest,
    CallbackResponse,
)
from sfn_callback_urls._models import Action
from sfn_callback_urls._urls import Minter
from sfn_callback_urls._validation import parse_action
from sfn_callback_urls.errors import StepFunctionsError, TaskAlreadyCompleted
from sfn_callback_urls.keys import LocalKey
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
BASE_URL = "https://callbacks.example.com/prod"
TOKEN = synthetic_token()
assert "+" in TOKEN or "/" in TOKEN


class Recorder:
    """A fake complete(): records every Completion, or raises what it is told to."""

    def __init__(self) -> None:
        self.completions: list[Completion] = []
        self.error: BaseException | None = None

    def __call__(self, completion: Completion, /) -> None:
        """Record ``completion``, or raise the configured error."""
        if self.error is not None:
            raise self.error
        self.completions.append(completion)


@pytest.fixture
def minter(codec: Codec) -> Minter:
    """A minter for the test base URL."""
    return Minter(codec, base_url=BASE_URL)


@pytest.fixture
def recorder() -> Recorder:
    """The fake complete() most tests use."""
    return Recorder()


HandlerFactory = Callable[..., CallbackHandler]


@pytest.fixture
def make_handler(codec: Codec, recorder: Recorder) -> HandlerFactory:
    """Build a handler on the test codec, clock and recorder; keyword arguments override."""

    def build(**options: Any) -> CallbackHandler:
        options.setdefault("clock", lambda: NOW)
        options.setdefault("complete", recorder)
        return CallbackHandler(codec, **options)

    return build


def mint(
    minter: Minter,
    *actions: Action | Mapping[str, Any],
    token: str = TOKEN,
    **options: Any,
) -> dict[str, str]:
    """Mint one URL per action (minted at NOW) and return them by name."""
    parsed = [a if not isinstance(a, Mapping) else parse_action(dict(a)) for a in actions]
    return dict(minter.mint(token, parsed, now=NOW, **options).urls)


def request(
    url: str,
    method: str = "GET",
    *,
    accept: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> CallbackRequest:
    """A request for ``url`` (its query string), with optional extra query parameters."""
    query = urlsplit(url).query
    if extra:
        query += "&" + urlencode(extra)
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["content-type"] = content_type
    return CallbackRequest(method=method, query=query, headers=headers, body=body)


def call(
    handler: CallbackHandler, req: CallbackRequest, *, allow_500: bool = False
) -> CallbackResponse:
    """Handle ``req``; a 500 fails the test unless expected."""
    response = handler.handle(req)
    assert allow_500 or response.status != 500, response.body
    return response


def body_of(response: CallbackResponse) -> Any:
    """The JSON body of a response."""
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, dict[str, Any]]]:
    """The handler's log records: (level, their structured fields)."""
    return [(r.levelno, record_fields(r)) for r in caplog.records if r.name == LOGGER_NAME]


APPROVE = {"name": "approve", "type": "success", "output": {"approved": True}}
REJECT = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"}
HEARTBEAT = {"name": "still_working", "type": "heartbeat"}


# --- GET actions with a fake complete() -------------------------------------------------------


def test_get_approve_completes_with_success(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """GET on an approve URL sends SendTaskSuccess and answers the contract's JSON."""
    urls = mint(minter, APPROVE, REJECT)
    response = call(make_handler(), request(urls["approve"]))
    assert response.status == 200
    body = body_of(response)
    assert body["action"] == {"name": "approve", "type": "success"}
    assert set(body) == {"transaction_id", "action"}
    assert recorder.completions == [Completion.success(TOKEN, {"approved": True})]


def test_get_reject_completes_with_failure(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """GET on a reject URL sends SendTaskFailure with error and cause."""
    urls = mint(minter, APPROVE, REJECT)
    response = call(make_handler(), request(urls["reject"]))
    assert body_of(response)["action"] == {"name": "reject", "type": "failure"}
    assert recorder.completions == [Completion.failure(TOKEN, "rejected", "Ben said no")]


def test_get_heartbeat_sends_heartbeat(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """GET on a heartbeat URL sends SendTaskHeartbeat, as often as it is opened."""
    url = mint(minter, HEARTBEAT)["still_working"]
    handler = make_handler()
    assert call(handler, request(url)).status == 200
    assert call(handler, request(url)).status == 200
    assert recorder.completions == [Completion.heartbeat(TOKEN)] * 2


def test_post_on_get_action_completes_with_any_body(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """POST on a plain action completes it whatever the body (e.g. the confirm form's)."""
    url = mint(minter, APPROVE)["approve"]
    form = request(url, "POST", body=b"", content_type="application/x-www-form-urlencoded")
    assert call(make_handler(), form).status == 200
    assert len(recorder.completions) == 1


def test_query_as_mapping(minter: Minter, make_handler: HandlerFactory, recorder: Recorder) -> None:
    """An adapter may pass the query already parsed."""
    url = mint(minter, APPROVE)["approve"]
    query = dict(parse_qsl(urlsplit(url).query))
    response = call(make_handler(), CallbackRequest(method="get", query=query))
    assert response.status == 200
    assert len(recorder.completions) == 1


def test_second_click_is_task_already_completed(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """When complete() says the task is gone, the answer is 409 TaskAlreadyCompleted."""
    url = mint(minter, APPROVE)["approve"]
    recorder.error = TaskAlreadyCompleted(aws_code="TaskTimedOut")
    response = call(make_handler(), request(url))
    assert response.status == 409
    assert body_of(response) == {
        "error": "TaskAlreadyCompleted",
        "message": "This task has already been completed or has expired.",
    }


def test_step_functions_error_is_502_with_correlation_id(
    minter: Minter,
    make_handler: HandlerFactory,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Step Functions refusal answers 502 with a correlation id, logged at ERROR."""
    url = mint(minter, APPROVE)["approve"]
    recorder.error = StepFunctionsError(aws_code="AccessDeniedException")
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        response = call(make_handler(), request(url))
    assert response.status == 502
    body = body_of(response)
    assert body["error"] == "StepFunctionsError"
    [(level, line)] = log_lines(caplog)
    assert level == logging.ERROR
    assert line["correlation_id"] == body["correlation_id"]
    assert line["aws_code"] == "AccessDeniedException"
    assert line["outcome"] == "error"


# --- the original README's POST action --------------------------------------------------------


def post_json(url: str, body: Any, content_type: str = "application/json") -> CallbackRequest:
    """A POST of ``body`` as JSON to ``url``."""
    return request(url, "POST", body=json.dumps(body).encode(), content_type=content_type)


def test_post_action_happy_outcome(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """The README's happy outcome: the whole body becomes the task output."""
    url = mint(minter, README_POST_ACTION)["callback"]
    body = {"result": "good", "detail": [1, 2, 3]}
    response = call(make_handler(enable_post_actions=True), post_json(url, body))
    assert response.status == 200
    assert body_of(response)["action"] == {"name": "callback", "type": "post"}
    assert recorder.completions == [Completion.success(TOKEN, body)]


def test_post_action_sad_outcome(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """The README's sad outcome: the task fails with the error taken by error_path."""
    url = mint(minter, README_POST_ACTION)["callback"]
    body = {"result": "bad", "reason": "out of stock"}
    response = call(make_handler(enable_post_actions=True), post_json(url, body))
    assert response.status == 200
    assert recorder.completions == [Completion.failure(TOKEN, "out of stock", None)]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        pytest.param(
            b'{"result": "meh"}', "application/json", 400, "InvalidPostActionBody", id="no-outcome"
        ),
        pytest.param(
            b"result=good",
            "application/x-www-form-urlencoded",
            415,
            "UnsupportedMediaType",
            id="not-declared-json",
        ),
        pytest.param(b"{nope", "application/json", 400, "InvalidPostActionBody", id="bad-json"),
    ],
)
def test_post_action_refused_bodies(
    minter: Minter,
    make_handler: HandlerFactory,
    recorder: Recorder,
    body: bytes,
    content_type: str,
    status: int,
    error: str,
) -> None:
    """A body no outcome accepts or bad JSON is 400, one not declared JSON 415; nothing is sent."""
    url = mint(minter, README_POST_ACTION)["callback"]
    req = request(url, "POST", body=body, content_type=content_type)
    response = call(make_handler(enable_post_actions=True), req)
    assert response.status == status
    assert body_of(response)["error"] == error
    assert recorder.completions == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT"])
def test_post_action_other_methods_are_405(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder, method: str
) -> None:
    """A POST action takes POST only: others answer 405 with Allow: POST."""
    url = mint(minter, README_POST_ACTION)["callback"]
    response = call(make_handler(enable_post_actions=True), request(url, method))
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert recorder.completions == []


def test_post_actions_disabled(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """A handler without POST actions refuses them with PostActionsDisabled."""
    url = mint(minter, README_POST_ACTION)["callback"]
    response = call(make_handler(), post_json(url, {"result": "good"}))
    assert response.status == 400
    assert body_of(response)["error"] == "PostActionsDisabled"
    assert recorder.completions == []


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder, method: str
) -> None:
    """Plain actions take GET, HEAD and POST only."""
    url = mint(minter, APPROVE)["approve"]
    response = call(make_handler(), request(url, method))
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"
    assert recorder.completions == []


# --- output parameters ------------------------------------------------------------------------


PARAM_ACTION = {
    "name": "approve",
    "type": "success",
    "output": {"approver": "$who"},
    "response": {"html": "<p>Thanks, $who!</p>", "text": "Thanks, $who!"},
}


def test_output_parameters_enabled_both_sides(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """With output parameters in the blob and the handler, query values fill the output."""
    url = mint(minter, PARAM_ACTION, enable_output_parameters=True)["approve"]
    handler = make_handler(enable_output_parameters=True)
    response = call(handler, request(url, accept="text/plain", extra={"who": "Ben"}))
    assert response.status == 200
    assert response.body == b"Thanks, Ben!"
    assert recorder.completions == [Completion.success(TOKEN, {"approver": "Ben"})]


def test_output_parameters_disabled_on_handler(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """A URL minted with output parameters is refused by a handler without them."""
    url = mint(minter, PARAM_ACTION, enable_output_parameters=True)["approve"]
    response = call(make_handler(), request(url, extra={"who": "Ben"}))
    assert response.status == 400
    assert body_of(response)["error"] == "ParametersDisabled"
    assert recorder.completions == []


def test_output_parameter_missing(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """A template whose parameter is absent: 400 OutputFormatting, nothing sent."""
    url = mint(minter, PARAM_ACTION, enable_output_parameters=True)["approve"]
    response = call(make_handler(enable_output_parameters=True), request(url))
    assert response.status == 400
    assert body_of(response)["error"] == "OutputFormatting"
    assert recorder.completions == []


def test_output_parameters_escaped_in_html(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """A parameter value is HTML-escaped in the custom HTML body; the output keeps it raw."""
    url = mint(minter, PARAM_ACTION, enable_output_parameters=True)["approve"]
    evil = "<script>alert(document.cookie)</script>"
    req = request(url, accept="text/html", extra={"who": evil})
    response = call(make_handler(enable_output_parameters=True), req)
    assert response.status == 200
    assert b"<script>" not in response.body
    assert response.body == b"<p>Thanks, &lt;script&gt;alert(document.cookie)&lt;/script&gt;!</p>"
    assert recorder.completions == [Completion.success(TOKEN, {"approver": evil})]


@pytest.mark.parametrize(
    ("redirect", "params", "location"),
    [
        pytest.param("https://$host/thanks", {"host": "evil.example"}, None, id="in-the-host"),
        pytest.param(
            "https://example.com/$page",
            {"page": "/evil.example/x"},
            "https://example.com/%2Fevil.example%2Fx",
            id="in-the-path",
        ),
    ],
)
def test_redirect_parameters_cannot_change_the_host(
    minter: Minter,
    make_handler: HandlerFactory,
    recorder: Recorder,
    redirect: str,
    params: dict[str, str],
    location: str | None,
) -> None:
    """A parameter in a redirect's host is refused before anything is sent; in its path, escaped."""
    action = {"name": "approve", "type": "success", "output": 1, "response": {"redirect": redirect}}
    url = mint(minter, action, enable_output_parameters=True)["approve"]
    response = call(make_handler(enable_output_parameters=True), request(url, extra=params))
    if location is None:
        assert response.status == 400
        assert body_of(response)["error"] == "OutputFormatting"
        assert "Location" not in response.headers
        assert recorder.completions == []
    else:
        assert response.status == 303
        assert response.headers["Location"] == location
        assert len(recorder.completions) == 1


# --- responses --------------------------------------------------------------------------------


def test_redirect_is_303(minter: Minter, make_handler: HandlerFactory, recorder: Recorder) -> None:
    """An action with a redirect answers 303 with Location after completing."""
    action = {**APPROVE, "response": {"redirect": "https://example.com/thanks"}}
    url = mint(minter, action)["approve"]
    response = call(make_handler(), request(url, accept="text/html"))
    assert response.status == 303
    assert response.headers["Location"] == "https://example.com/thanks"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(recorder.completions) == 1


@pytest.mark.parametrize(
    ("accept", "content_type", "marker"),
    [
        (None, "application/json", b'"transaction_id"'),
        ("application/json", "application/json", b'"transaction_id"'),
        ("*/*", "application/json", b'"transaction_id"'),
        ("image/webp", "application/json", b'"transaction_id"'),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html; charset=utf-8",
            b"<h1>Approved</h1>",
        ),
        ("text/plain", "text/plain; charset=utf-8", b"Done: your response 'approve' was recorded."),
        ("text/html;q=0.1, text/plain", "text/plain; charset=utf-8", b"Done:"),
    ],
)
def test_accept_variants(
    minter: Minter,
    make_handler: HandlerFactory,
    accept: str | None,
    content_type: str,
    marker: bytes,
) -> None:
    """The answer follows the Accept header; JSON by default."""
    url = mint(minter, APPROVE)["approve"]
    response = call(make_handler(), request(url, accept=accept))
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert marker in response.body
    for name in ("Cache-Control", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert name in response.headers


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/json"])
def test_errors_follow_accept(minter: Minter, make_handler: HandlerFactory, accept: str) -> None:
    """Error answers are negotiated too, with fixed bodies."""
    response = call(
        make_handler(), CallbackRequest(method="GET", query="", headers={"ACCEPT": accept})
    )
    assert response.status == 400
    assert response.headers["Content-Type"].startswith(accept)
    assert b"InvalidPayload" in response.body


# --- bad URLs ---------------------------------------------------------------------------------


def test_missing_data_parameter(make_handler: HandlerFactory, recorder: Recorder) -> None:
    """A query without data: 400 InvalidPayload."""
    response = call(
        make_handler(), CallbackRequest(method="GET", query="action=approve&type=success")
    )
    assert response.status == 400
    assert body_of(response)["error"] == "InvalidPayload"
    assert recorder.completions == []


def test_tampered_url(minter: Minter, make_handler: HandlerFactory, recorder: Recorder) -> None:
    """A blob with one character changed: 400 InvalidPayload, nothing sent."""
    url = mint(minter, APPROVE)["approve"]
    query = dict(parse_qsl(urlsplit(url).query))
    blob = query["data"]
    position = len(blob) // 2
    query["data"] = blob[:position] + ("A" if blob[position] != "A" else "B") + blob[position + 1 :]
    response = call(make_handler(), CallbackRequest(method="GET", query=urlencode(query)))
    assert response.status == 400
    assert body_of(response) == {
        "error": "InvalidPayload",
        "message": "The callback URL is invalid or has been altered.",
    }
    assert recorder.completions == []


def test_url_from_another_key(make_handler: HandlerFactory, recorder: Recorder) -> None:
    """A URL minted under another key is InvalidPayload."""
    other = Minter(Codec(LocalKey.generate()), base_url=BASE_URL)
    url = mint(other, APPROVE)["approve"]
    assert body_of(call(make_handler(), request(url)))["error"] == "InvalidPayload"
    assert recorder.completions == []


def test_expired_url(minter: Minter, make_handler: HandlerFactory, recorder: Recorder) -> None:
    """A URL past its expiry (beyond the leeway): 400 ExpiredPayload."""
    url = mint(minter, APPROVE, expires_in=timedelta(hours=1))["approve"]
    late = make_handler(clock=lambda: NOW + timedelta(hours=1, minutes=1))
    response = call(late, request(url))
    assert response.status == 400
    assert body_of(response)["error"] == "ExpiredPayload"
    assert recorder.completions == []


def test_expiry_leeway(minter: Minter, make_handler: HandlerFactory, recorder: Recorder) -> None:
    """The handler's leeway tolerates a little clock skew, and no more."""
    url = mint(minter, APPROVE, expires_in=timedelta(hours=1))["approve"]
    skewed = NOW + timedelta(hours=1, seconds=20)
    assert call(make_handler(clock=lambda: skewed), request(url)).status == 200
    strict = make_handler(clock=lambda: skewed, leeway=timedelta(0))
    assert body_of(call(strict, request(url)))["error"] == "ExpiredPayload"


@pytest.mark.parametrize(
    ("name", "value"), [("action", "reject"), ("type", "failure"), ("action", "")]
)
def test_mismatched_action_or_type(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder, name: str, value: str
) -> None:
    """An action or type in the query that differs from the sealed one: 400 ActionMismatched."""
    url = mint(minter, APPROVE, REJECT)["approve"]
    query = dict(parse_qsl(urlsplit(url).query))
    query[name] = value
    response = call(make_handler(), CallbackRequest(method="GET", query=urlencode(query)))
    assert response.status == 400
    assert body_of(response)["error"] == "ActionMismatched"
    assert recorder.completions == []


def test_action_and_type_may_be_absent(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """The query's action and type are for humans: without them the URL still works."""
    url = mint(minter, APPROVE)["approve"]
    query = {"data": blob_of(url)}
    assert call(make_handler(), CallbackRequest(method="GET", query=query)).status == 200
    assert len(recorder.completions) == 1


# --- link scanners: confirm mode --------------------------------------------------------------


def test_confirm_mode_get_shows_page_and_does_not_complete(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """With confirm_get, GET renders a confirmation form; nothing is sent."""
    url = mint(minter, APPROVE)["approve"]
    handler = make_handler(confirm_get=True)
    page = call(handler, request(url, accept="text/html"))
    assert page.status == 200
    assert b"<h1>Approve this request?</h1>" in page.body
    assert b'<form method="post" action="">' in page.body
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert body_of(call(handler, request(url)))["confirm"] is True
    assert recorder.completions == []


def test_confirm_mode_post_completes(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """With confirm_get, the form's POST completes the task."""
    url = mint(minter, APPROVE)["approve"]
    handler = make_handler(confirm_get=True)
    form = request(
        url, "POST", accept="text/html", content_type="application/x-www-form-urlencoded"
    )
    response = call(handler, form)
    assert response.status == 200
    assert b"<h1>Approved</h1>" in response.body
    assert recorder.completions == [Completion.success(TOKEN, {"approved": True})]


def test_action_confirm_overrides_handler_default(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """An action's confirm flag wins over the handler's default, both ways."""
    urls = mint(minter, {**APPROVE, "confirm": True}, {**REJECT, "confirm": False})
    handler = make_handler()  # confirm_get=False
    assert body_of(call(handler, request(urls["approve"])))["confirm"] is True
    assert recorder.completions == []
    strict = make_handler(confirm_get=True)
    assert body_of(call(strict, request(urls["reject"])))["action"]["name"] == "reject"
    assert len(recorder.completions) == 1


def test_confirm_mode_reports_errors_on_get(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """The confirmation GET already refuses a URL the POST would refuse (missing parameter)."""
    url = mint(minter, PARAM_ACTION, enable_output_parameters=True)["approve"]
    handler = make_handler(confirm_get=True, enable_output_parameters=True)
    assert body_of(call(handler, request(url)))["error"] == "OutputFormatting"


@pytest.mark.parametrize("confirm_get", [False, True])
def test_head_never_completes(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder, confirm_get: bool
) -> None:
    """HEAD answers like the confirmation GET, without a body, and sends nothing."""
    url = mint(minter, APPROVE)["approve"]
    response = call(make_handler(confirm_get=confirm_get), request(url, "HEAD", accept="text/html"))
    assert response.status == 200
    assert response.body == b""
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert recorder.completions == []


def test_head_on_bad_url_has_error_status_and_no_body(make_handler: HandlerFactory) -> None:
    """HEAD on an invalid URL answers the error's status with no body."""
    response = call(make_handler(), CallbackRequest(method="HEAD", query="data=nope"))
    assert (response.status, response.body) == (400, b"")


# --- crashes and logs -------------------------------------------------------------------------


def test_exception_in_complete_is_500_with_correlation_id(
    minter: Minter,
    make_handler: HandlerFactory,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unexpected exception answers 500 with a correlation id, no traceback, and logs it."""
    url = mint(minter, APPROVE)["approve"]
    recorder.error = RuntimeError(f"boom with {TOKEN}")
    for accept in ("application/json", "text/html", "text/plain"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
            response = call(make_handler(), request(url, accept=accept), allow_500=True)
        assert response.status == 500
        [(level, line)] = log_lines(caplog)
        assert level == logging.ERROR
        correlation_id = line["correlation_id"]
        assert correlation_id.encode() in response.body
        assert line["outcome"] == "error"
        assert line["error"] == "InternalError"
        assert line["exception"] == "RuntimeError"
        for forbidden in (b"Traceback", b"RuntimeError", b"boom", TOKEN.encode()):
            assert forbidden not in response.body
        assert "boom" not in caplog.text
        assert TOKEN not in caplog.text
    assert body_of(make_handler().handle(request(url)))["error"] == "InternalError"


def test_broken_clock_is_500_not_an_exception(minter: Minter, codec: Codec) -> None:
    """Whatever fails inside, handle() returns a response instead of raising."""

    def clock() -> datetime:
        raise ValueError("no time")

    handler = CallbackHandler(codec, clock=clock, complete=Recorder())
    url = mint(minter, APPROVE)["approve"]
    response = call(handler, request(url), allow_500=True)
    assert response.status == 500
    assert "correlation_id" in body_of(response)


@pytest.mark.parametrize(
    ("confirm_get", "method", "status", "level", "outcome"),
    [
        (False, "GET", 200, logging.INFO, "completed"),
        (True, "GET", 200, logging.INFO, "confirm"),
        (False, "PUT", 405, logging.WARNING, "rejected"),
    ],
)
def test_one_log_line_per_request_without_secrets(
    minter: Minter,
    make_handler: HandlerFactory,
    caplog: pytest.LogCaptureFixture,
    confirm_get: bool,
    method: str,
    status: int,
    level: int,
    outcome: str,
) -> None:
    """Each request logs one JSON line with the expected fields, never the token, blob or query."""
    url = mint(minter, APPROVE)["approve"]
    req = request(url, method)
    with caplog.at_level(logging.DEBUG):
        response = call(make_handler(confirm_get=confirm_get), req)
    assert response.status == status
    [(logged_level, line)] = log_lines(caplog)
    assert logged_level == level
    assert line["outcome"] == outcome
    assert line["status"] == status
    assert line["action"] == "approve"
    assert line["type"] == "success"
    assert line["method"] == method
    assert isinstance(line["duration_ms"], float)
    assert len(line["transaction_id"]) == 36
    assert "correlation_id" not in line
    assert (line.get("error") is None) == (status < 400)
    blob = blob_of(url)
    for secret in (TOKEN, blob, blob[:40], urlsplit(url).query):
        assert secret not in caplog.text


def test_log_line_of_rejected_unauthenticated_request(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A request refused before authentication logs nulls for what it cannot know."""
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        call(make_handler(), CallbackRequest(method="GET", query="data=forged&action=x"))
    [(level, line)] = log_lines(caplog)
    assert level == logging.WARNING
    assert line["transaction_id"] is None
    assert line["action"] is None
    assert line["error"] == "InvalidPayload"
    assert line["outcome"] == "rejected"
    assert "forged" not in caplog.text


def test_custom_logger(minter: Minter, make_handler: HandlerFactory) -> None:
    """The log line goes to the logger the handler was given."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tests.custom_handler_logger")
    logger.addHandler(Collect())
    logger.setLevel(logging.INFO)
    logger.propagate = False
    url = mint(minter, APPROVE)["approve"]
    call(make_handler(logger=logger), request(url))
    assert [record_fields(r)["outcome"] for r in records] == ["completed"]


# --- real executions in moto ------------------------------------------------------------------


def moto_handler(codec: Codec, moto_sfn: MotoClients, **options: Any) -> CallbackHandler:
    """A handler that completes through moto's Step Functions client."""
    return CallbackHandler(codec, stepfunctions_client=moto_sfn.stepfunctions, **options)


def test_moto_approve_then_second_click(
    codec: Codec, minter: Minter, moto_sfn: MotoClients, approval_machine: ApprovalMachine
) -> None:
    """A real execution: GET approve succeeds it; a second click answers 409."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(minter, APPROVE, REJECT, token=token)
    handler = moto_handler(codec, moto_sfn)
    response = call(handler, request(urls["approve"]))
    assert response.status == 200
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"approved": True}
    again = call(handler, request(urls["approve"]))
    assert again.status == 409
    assert body_of(again)["error"] == "TaskAlreadyCompleted"


def test_moto_reject(
    codec: Codec, minter: Minter, moto_sfn: MotoClients, approval_machine: ApprovalMachine
) -> None:
    """A real execution: GET reject fails the task with error 'rejected' (caught by the machine).

    moto drops the cause of SendTaskFailure; the fake-complete test asserts it.
    """
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(minter, APPROVE, REJECT, token=token)
    response = call(moto_handler(codec, moto_sfn), request(urls["reject"], accept="text/html"))
    assert response.status == 200
    assert b"<h1>Rejected</h1>" in response.body
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"  # the machine catches "rejected"
    assert approval_machine.confirmation()["Error"] == "rejected"


def test_moto_heartbeat_then_approve(
    codec: Codec, minter: Minter, moto_sfn: MotoClients, heartbeat_machine: ApprovalMachine
) -> None:
    """A real execution with HeartbeatSeconds: a heartbeat keeps it running, approve ends it."""
    execution = heartbeat_machine.start("Ben")
    token, _ = heartbeat_machine.wait_for_token()
    urls = mint(minter, HEARTBEAT, APPROVE, token=token)
    handler = moto_handler(codec, moto_sfn)
    assert call(handler, request(urls["still_working"])).status == 200
    described = moto_sfn.stepfunctions.describe_execution(executionArn=execution)
    assert described["status"] == "RUNNING"
    assert call(handler, request(urls["approve"])).status == 200
    assert heartbeat_machine.wait_for_status(execution)["status"] == "SUCCEEDED"


def test_moto_post_action(
    codec: Codec, minter: Minter, moto_sfn: MotoClients, approval_machine: ApprovalMachine
) -> None:
    """A real execution: the README's POST action, happy outcome, sends the body as output."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = mint(minter, README_POST_ACTION, token=token)["callback"]
    handler = moto_handler(codec, moto_sfn, enable_post_actions=True)
    response = call(handler, post_json(url, {"result": "good", "by": "webhook"}))
    assert response.status == 200
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"result": "good", "by": "webhook"}


def test_moto_confirm_mode(
    codec: Codec, minter: Minter, moto_sfn: MotoClients, approval_machine: ApprovalMachine
) -> None:
    """A real execution in confirm mode: the scanner's GET leaves it running; the POST ends it."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = mint(minter, APPROVE, token=token)["approve"]
    handler = moto_handler(codec, moto_sfn, confirm_get=True)
    assert call(handler, request(url, "HEAD")).status == 200
    assert call(handler, request(url, accept="text/html")).status == 200
    described = moto_sfn.stepfunctions.describe_execution(executionArn=execution)
    assert described["status"] == "RUNNING"
    form = request(url, "POST", content_type="application/x-www-form-urlencoded")
    assert call(handler, form).status == 200
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"


class _BrokenLogger:
    """A LoggerLike whose every method fails, ``isEnabledFor`` included."""

    def isEnabledFor(self, level: int) -> bool:
        """Fail."""
        raise RuntimeError("the logging set-up is broken")

    def info(self, msg: str, *, extra: Mapping[str, object] | None = None) -> None:
        """Fail."""
        raise RuntimeError("the logging set-up is broken")

    warning = error = info


def test_a_broken_logger_never_breaks_an_answer(
    minter: Minter, make_handler: HandlerFactory, recorder: Recorder
) -> None:
    """handle() never raises: not even when the logger's own level check fails."""
    urls = mint(minter, {"name": "approve", "type": "success", "output": {}})
    handler = make_handler(logger=_BrokenLogger())
    assert call(handler, request(urls["approve"])).status == 200
    assert len(recorder.completions) == 1
    assert call(handler, request(urls["approve"] + "XX")).status == 400


def test_debug_details_from_the_request_are_printable_ascii(
    minter: Minter, make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, query parameter names and the content type are logged as printable ASCII."""
    urls = mint(minter, {"name": "approve", "type": "success", "output": {}})
    hostile = "x\n2026-01-01 ERROR forged\x1b[31m"
    req = request(
        urls["approve"], content_type="text/plain\r\nX: " + "y" * 500, extra={hostile: "1"}
    )
    with caplog.at_level(logging.DEBUG, logger="sfn_callback_urls.handler"):
        assert call(make_handler(), req).status == 200
    [fields] = [record_fields(r) for r in caplog.records if getattr(r, "event", None) == "callback"]
    assert fields["params"] == ["x?2026-01-01 ERROR forged?[31m"]
    assert fields["content_type"] == ("text/plain??X: " + "y" * 500)[:100]
