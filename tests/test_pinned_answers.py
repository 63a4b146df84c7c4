"""The handler's and the Lambda adapters' answers, pinned byte for byte (status, headers, body).

Fast paths in the handler, the render module and the adapters must not drift from what users
got before: `tests/vectors/answers.json` holds every answer below as it was produced by the
straightforward code. Regenerate it only for an intended change of an answer:
``python tests/test_pinned_answers.py`` (and say why in the commit).
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

if __name__ == "__main__":  # pragma: no cover - regeneration: tests/ on the path as under pytest
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FakeStepFunctions, event_for  # tests/ is on sys.path
from original_readme import README_POST_ACTION  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    Minter,
    PageTheme,
    aws_lambda,
)
from sfn_callback_urls.adapters import event_to_request, response_to_event
from sfn_callback_urls.keys import LocalKey

VECTORS = Path(__file__).resolve().parent / "vectors" / "answers.json"
NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
BASE_URL = "https://callbacks.example.com/prod"
TOKEN = "AAAAKgAAAAIAAAAAAAAAAQ" + "x" * 60
TRANSACTION_ID = "0b7f4a52-7d2c-4f5e-9c1a-3e2d1f0a9b8c"
CORRELATION_ID = uuid.UUID("11111111-2222-4333-8444-555555555555")
KEY = LocalKey(bytes(range(32)), key_id=b"pin!")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPTS = {"html": BROWSER, "json": "application/json", "text": "text/plain", "none": None}

ACTIONS: list[dict[str, Any]] = [
    {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}},
    {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"},
    {"name": "asked", "type": "success", "output": {}, "confirm": True},
    {
        "name": "away",
        "type": "success",
        "output": None,
        "response": {"redirect": "https://example.com/done?x=1"},
    },
    {
        "name": "custom",
        "type": "heartbeat",
        "response": {"html": "<b>ok</b>", "json": {"ok": 1}, "text": "ok!"},
    },
    README_POST_ACTION,
    {
        "name": "deploy",
        "type": "success",
        "output": {"approved": True},
        "confirm": {
            "title": "Deploy build <1234> to production?",
            "details": "Requested by Ana & Ben.\nChanges: 12 commits.",
            "comment": "optional",
        },
    },
    {
        "name": "send_back",
        "type": "failure",
        "error": "rejected",
        "confirm": {"title": "Send it back?", "comment": "required", "comment_max_length": 20},
    },
]
THEME = PageTheme(
    product_name="Acme Deploys",
    logo_url="https://cdn.example.com/logo.png",
    accent_color="#8250df",
    footer="Questions? ops@example.com",
)


class Exploding:
    """A Step Functions client whose every call fails unexpectedly: the handler's 500."""

    def send_task_success(self, **_: Any) -> object:
        """Fail like a bug would."""
        raise RuntimeError("boom")


def _answer(status: int, headers: Any, body: bytes) -> dict[str, Any]:
    try:
        text: dict[str, str] = {"text": body.decode("utf-8")}
    except UnicodeDecodeError:  # pragma: no cover - every answer here is UTF-8
        text = {"base64": base64.b64encode(body).decode("ascii")}
    return {"status": status, "headers": dict(headers), **text}


def answers() -> dict[str, Any]:
    """Every pinned answer, by case name (deterministic: fixed key, clock, ids)."""
    codec = Codec(KEY)
    minted = Minter(codec, BASE_URL).create_urls(
        {"token": TOKEN, "actions": ACTIONS, "expiration": "2099-01-01T00:00:00Z"},
        now=NOW,
        transaction_id=TRANSACTION_ID,
    )
    urls = minted.urls
    handler = CallbackHandler(
        codec,
        stepfunctions_client=FakeStepFunctions(),
        enable_post_actions=True,
        clock=lambda: NOW,
    )
    confirming = CallbackHandler(
        codec, stepfunctions_client=FakeStepFunctions(), confirm_get=True, clock=lambda: NOW
    )
    broken = CallbackHandler(codec, stepfunctions_client=Exploding(), clock=lambda: NOW)
    themed = CallbackHandler(
        codec, stepfunctions_client=FakeStepFunctions(), clock=lambda: NOW, page_theme=THEME
    )
    form = "application/x-www-form-urlencoded"
    query = {name: url.split("?", 1)[1] for name, url in urls.items()}
    tampered = query["approve"][:-3] + "AAA"
    cases: dict[str, tuple[CallbackHandler, CallbackRequest]] = {}
    for kind, accept in ACCEPTS.items():
        headers = {} if accept is None else {"Accept": accept, "User-Agent": "pin/1"}
        for name in ("approve", "reject", "away", "custom"):
            cases[f"GET {name} {kind}"] = (handler, CallbackRequest("GET", query[name], headers))
        cases[f"GET asked {kind}"] = (handler, CallbackRequest("GET", query["asked"], headers))
        cases[f"GET confirm_get {kind}"] = (
            confirming,
            CallbackRequest("GET", query["approve"], headers),
        )
        cases[f"HEAD approve {kind}"] = (
            handler,
            CallbackRequest("HEAD", query["approve"], headers),
        )
        cases[f"tampered {kind}"] = (handler, CallbackRequest("GET", tampered, headers))
        cases[f"PUT {kind}"] = (handler, CallbackRequest("PUT", query["approve"], headers))
        cases[f"GET post action {kind}"] = (
            handler,
            CallbackRequest("GET", query["callback"], headers),
        )
        for body in (b'{"result": "good"}', b'{"result": "bad", "reason": "no"}', b"{}"):
            post_headers = {**headers, "Content-Type": "application/json"}
            cases[f"POST {body.decode()} {kind}"] = (
                handler,
                CallbackRequest("POST", query["callback"], post_headers, body),
            )
        cases[f"500 {kind}"] = (broken, CallbackRequest("GET", query["approve"], headers))
        # The approver's pages: context, a comment recorded, a comment refused, a theme.
        cases[f"GET deploy {kind}"] = (handler, CallbackRequest("GET", query["deploy"], headers))
        form_headers = {**headers, "Content-Type": form}
        cases[f"POST deploy comment {kind}"] = (
            handler,
            CallbackRequest(
                "POST", query["deploy"], form_headers, b"comment=Ship+%3Cit%3E%0D%0Anow"
            ),
        )
        cases[f"POST send_back no reason {kind}"] = (
            handler,
            CallbackRequest("POST", query["send_back"], form_headers, b"comment=++"),
        )
        cases[f"GET deploy themed {kind}"] = (
            themed,
            CallbackRequest("GET", query["deploy"], headers),
        )
        cases[f"tampered themed {kind}"] = (themed, CallbackRequest("GET", tampered, headers))
    result: dict[str, Any] = {}
    for case, (case_handler, request) in cases.items():
        response = case_handler.handle(request)
        result[case] = _answer(response.status, response.headers, response.body)
    for source in ("apigw_v1", "apigw_v2", "function_url", "alb", "alb_multivalue"):
        for kind in ("html", "json"):
            event = event_for(urls["approve"], source, headers={"accept": ACCEPTS[kind] or ""})
            response = handler.handle(event_to_request(event))
            result[f"{source} {kind}"] = response_to_event(response, event)
    # The ready Lambda handler (wall clock: these URLs expire in 2099), its own 404 and refusal.
    environ = {"SFN_CALLBACK_URLS_KEY": KEY.to_string(), "CALLBACK_BASE_URL": BASE_URL}
    aws_lambda.reset_app(
        aws_lambda.App.from_environment(environ, stepfunctions_client=FakeStepFunctions())
    )
    try:
        for source in ("apigw_v1", "apigw_v2", "alb_multivalue"):
            for kind in ("html", "json"):
                event = event_for(urls["approve"], source, headers={"accept": ACCEPTS[kind] or ""})
                result[f"lambda {source} {kind}"] = aws_lambda.process_callback_handler(event, None)
        elsewhere = event_for(urls["approve"].replace("/respond", "/elsewhere"))
        result["lambda 404"] = aws_lambda.process_callback_handler(elsewhere, None)
        result["lambda not http"] = aws_lambda.process_callback_handler({"token": "x"}, None)
    finally:
        aws_lambda.reset_app()
    return result


@pytest.fixture
def fixed_correlation_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Server errors carry a fixed correlation id, so that the 500 answers can be pinned."""
    monkeypatch.setattr(uuid, "uuid4", lambda: CORRELATION_ID)


@pytest.mark.usefixtures("fixed_correlation_id")
def test_the_answers_are_byte_for_byte_the_pinned_ones() -> None:
    """Every answer (status, headers in order, body) is the one in tests/vectors/answers.json."""
    pinned = json.loads(VECTORS.read_text(encoding="utf-8"))
    produced = answers()
    assert list(produced) == list(pinned)
    for case, answer in produced.items():
        assert answer == pinned[case], case
        # json keeps the order of keys: the headers' order is pinned too.
        assert json.dumps(answer) == json.dumps(pinned[case]), case


if __name__ == "__main__":  # pragma: no cover - see the module docstring
    uuid.uuid4 = lambda: CORRELATION_ID
    VECTORS.write_text(json.dumps(answers(), indent=1) + "\n", encoding="utf-8")
