"""The audit trail of the ready app: one structured record per mint and per callback, on moto."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import load_event  # tests/ is on sys.path
from sfn_callback_urls.aws_lambda import create_urls_handler, process_callback_handler
from sfn_callback_urls.testing import ApprovalMachine

# What a LogRecord has before any `extra`: the rest are the record's fields.
STANDARD = set(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))) | {"message"}


class JsonLines(logging.Handler):
    """Formats every record as Lambda's JSON log format does: extra fields at the top level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record as one JSON object."""
        line = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({k: v for k, v in vars(record).items() if k not in STANDARD})
        self.lines.append(json.loads(json.dumps(line, default=str)))


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonLines]:
    """The root logger at DEBUG (as some Lambda functions set it), every record captured."""
    handler = JsonLines()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    app_logger = logging.getLogger("sfn_callback_urls.aws_lambda")
    monkeypatch.setattr(app_logger, "level", logging.NOTSET)  # as in a fresh Lambda process
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved)


def callback_event(url: str) -> dict[str, Any]:
    """The sample REST event asking for ``url``'s query, JSON answers."""
    event = load_event("apigw_v1")
    query = dict(pair.split("=", 1) for pair in url.split("?", 1)[1].split("&"))
    event.update(path="/respond", queryStringParameters=query)
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    event["headers"]["Accept"] = "application/json"
    event["multiValueHeaders"]["Accept"] = ["application/json"]
    return event


def test_a_mint_and_an_approval_leave_queryable_records(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine, json_logs: JsonLines
) -> None:
    """Mint and completion records carry their fields as fields; no record holds a secret."""
    execution = approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    # From here on the app runs: the records before are this test's own boto3 calls (botocore
    # at DEBUG logs the SQS message that carries the token to the "e-mail" step).
    json_logs.lines.clear()
    request = {
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}},
            {"name": "reject", "type": "failure", "error": "rejected"},
        ],
        "expiration": "2099-01-01T00:00:00Z",
    }
    minted = create_urls_handler(request, None)
    event = callback_event(minted["urls"]["approve"])
    answer = process_callback_handler(event, None)
    assert answer["statusCode"] == 200
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"

    ours = [line for line in json_logs.lines if line["logger"].startswith("sfn_callback_urls")]
    [mint] = [line for line in ours if line.get("event") == "mint"]
    assert mint["level"] == "INFO"
    assert mint["transaction_id"] == minted["transaction_id"]
    assert (mint["actions"], mint["types"]) == (["approve", "reject"], ["success", "failure"])
    assert mint["expires_at"] == "2099-01-01T00:00:00Z"
    [callback] = [line for line in ours if line.get("event") == "callback"]
    assert callback["level"] == "INFO"
    assert callback["transaction_id"] == minted["transaction_id"]
    assert (callback["action"], callback["type"], callback["outcome"]) == (
        "approve",
        "success",
        "completed",
    )
    assert (callback["method"], callback["status"]) == ("GET", 200)
    assert callback["source_ip"] == event["requestContext"]["identity"]["sourceIp"]
    assert callback["user_agent"] == event["headers"]["User-Agent"]
    assert isinstance(callback["duration_ms"], float)

    blob = minted["urls"]["approve"].rsplit("data=", 1)[1]
    for line in json_logs.lines:
        if line["logger"].startswith("moto"):
            continue  # moto runs the state machine in this process; not there on AWS
        text = json.dumps(line)
        assert token not in text
        assert blob not in text


def test_a_refusal_is_a_warning_with_its_code(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine, json_logs: JsonLines
) -> None:
    """A tampered URL: one WARNING record, outcome rejected, error InvalidPayload, no claims."""
    approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    minted = create_urls_handler(
        {"token": token, "actions": [{"name": "ok", "type": "success", "output": {}}]}, None
    )
    url = minted["urls"]["ok"]
    answer = process_callback_handler(callback_event(url[:-3] + "AAA"), None)
    assert answer["statusCode"] == 400
    [callback] = [line for line in json_logs.lines if line.get("event") == "callback"]
    assert callback["level"] == "WARNING"
    assert (callback["outcome"], callback["error"], callback["status"]) == (
        "rejected",
        "InvalidPayload",
        400,
    )
    assert callback["transaction_id"] is None


@pytest.mark.parametrize(
    ("user_agent", "logged"),
    [
        ("Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"),
        ("evil\r\nlevel=ERROR fake record", "evil??level=ERROR fake record"),
        ("caf\u00e9 \u202eesrever\x00\x7f", "caf? ?esrever??"),
        ("A" * 300, "A" * 200),
    ],
)
def test_the_user_agent_is_logged_as_printable_ascii(
    app_env: pytest.MonkeyPatch, json_logs: JsonLines, user_agent: str, logged: str
) -> None:
    """A hostile User-Agent reaches the record as printable ASCII, cut at 200 characters."""
    minted = create_urls_handler(
        {"token": "T" * 40, "actions": [{"name": "ok", "type": "success", "output": {}}]}, None
    )
    event = callback_event(minted["urls"]["ok"][:-3] + "AAA")  # refused: no AWS call needed
    event["headers"]["User-Agent"] = user_agent
    event["multiValueHeaders"]["User-Agent"] = [user_agent]
    assert process_callback_handler(event, None)["statusCode"] == 400
    [callback] = [line for line in json_logs.lines if line.get("event") == "callback"]
    assert callback["user_agent"] == logged
