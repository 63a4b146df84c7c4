"""Attacks from SECURITY.md that need a test of their own."""

from __future__ import annotations

import base64
import hmac
import json
from datetime import datetime, timezone

import pytest

from helpers import synthetic_token  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    InvalidPayload,
    LocalKey,
    Minter,
    Mode,
    SuccessAction,
)
from sfn_callback_urls._complete import Completion

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
BASE = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
TOKEN = synthetic_token()


def _original_unencrypted_payload() -> str:
    """A payload in the shape of the original app's unencrypted '1-' format."""
    payload = {
        "iss": "arn:aws:lambda:us-east-1:123456789012:function:create-urls",
        "token": TOKEN,
        "name": "approve",
        "action": {"type": "success", "output": {"approved": True}},
        "transaction_id": "0b6d5f7e-1f0a-4c59-9a51-3f1d2b8e6a10",
    }
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return "1-" + encoded


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_original_unencrypted_payloads_are_refused(mode: Mode) -> None:
    """The original app's '1-' (and any '2-'/'3-') payloads never open, in either mode."""
    codec = Codec(LocalKey.generate(), mode=mode)
    blob = _original_unencrypted_payload()
    for candidate in (blob, "2-" + blob[2:], "3-" + blob[2:], blob[2:]):
        with pytest.raises(InvalidPayload):
            codec.open(candidate, now=NOW)


def test_original_unencrypted_payload_through_the_handler_is_a_400() -> None:
    """A '1-' URL sent to the callback handler is a 400 InvalidPayload and completes nothing."""
    sent: list[Completion] = []
    handler = CallbackHandler(Codec(LocalKey.generate()), complete=sent.append)
    query = f"action=approve&type=success&data={_original_unencrypted_payload()}"
    response = handler.handle(CallbackRequest(method="GET", query=query))
    assert response.status == 400
    assert json.loads(response.body)["error"] == "InvalidPayload"
    assert sent == []


def test_signed_tags_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed-mode tags are checked with hmac.compare_digest, never with ==."""
    codec = Codec(LocalKey.generate(), mode=Mode.SIGNED)
    url = Minter(codec, BASE).mint(TOKEN, [SuccessAction(name="approve", output=1)], now=NOW)
    blob = url.urls["approve"].rsplit("data=", 1)[1]
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("sfn_callback_urls._codec.hmac.compare_digest", spy)
    assert codec.open(blob, now=NOW).token == TOKEN
    assert len(calls) == 1
    assert len(calls[0][0]) == len(calls[0][1]) == 16
    tampered = blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1]
    with pytest.raises(InvalidPayload):
        codec.open(tampered, now=NOW)
    assert len(calls) == 2
