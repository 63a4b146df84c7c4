"""The audit trail of the ready app: one structured record per mint and per callback, on moto."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import load_event  # tests/ is on sys.path
from sfn_callback_urls import _logging
from sfn_callback_urls._logging import emit, quiet_aws_loggers
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


# --- how records are built (_logging), and the AWS SDK's loggers ------------------------------


class Kept(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep ``record``."""
        self.records.append(record)


class SubLogger(logging.Logger):
    """A Logger subclass: `emit` sends it through its own info/warning/error."""


# Set per record by logging (clock, thread, process), or where in emit the call is.
_PER_RECORD = {"created", "msecs", "relativeCreated", "lineno", "thread", "process"}


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING, logging.ERROR, 25, 55])
def test_emit_builds_the_record_logger_info_would(level: int) -> None:
    """The record emit builds for a plain Logger is the one its info/warning/error would build."""
    fields = {"event": "callback", "outcome": "completed", "status": 200, "action": "approve"}
    plain, sub = logging.Logger("tests.emit.plain"), SubLogger("tests.emit.sub")
    kept = Kept()
    for logger in (plain, sub):
        logger.addHandler(kept)
        emit(logger, level, "callback completed: approve (success) 200", fields)
    fast, slow = kept.records
    assert type(plain) is logging.Logger  # the fast path's case; the subclass takes info()
    assert (fast.name, slow.name) == ("tests.emit.plain", "tests.emit.sub")
    same = {k: v for k, v in vars(fast).items() if k not in _PER_RECORD | {"name"}}
    assert same == {k: v for k, v in vars(slow).items() if k not in _PER_RECORD | {"name"}}
    assert list(vars(fast)) == list(vars(slow))  # the same attributes, in the same order
    assert (fast.funcName, fast.filename, fast.module) == ("emit", "_logging.py", "_logging")
    code = _logging.emit.__code__
    lines = [line for _, _, line in code.co_lines() if line is not None]
    assert min(lines) <= fast.lineno <= max(lines)
    assert fast.levelno == slow.levelno == min(max(level, logging.INFO), logging.ERROR) // 10 * 10


def test_emit_honours_levels_filters_and_disabled_loggers() -> None:
    """A plain Logger's level, filters and ``disabled`` decide as for logger.info."""
    logger = logging.Logger("tests.emit.rules", logging.WARNING)
    kept = Kept()
    logger.addHandler(kept)
    emit(logger, logging.INFO, "below the level", {})
    logger.addFilter(lambda record: record.getMessage() != "filtered")
    emit(logger, logging.WARNING, "filtered", {})
    logger.disabled = True
    emit(logger, logging.ERROR, "disabled", {})
    logger.disabled = False
    emit(logger, logging.ERROR, "kept", {"event": "x"})
    assert [(r.getMessage(), r.levelname) for r in kept.records] == [("kept", "ERROR")]
    assert kept.records[0].event == "x"  # type: ignore[attr-defined]


def test_emit_calls_the_methods_of_other_loggers() -> None:
    """A LoggerLike that is not a logging.Logger gets .info/.warning/.error(msg, extra=fields)."""
    calls: list[tuple[str, str, object]] = []

    class Like:
        def info(self, msg: str, *, extra: Any = None) -> None:
            calls.append(("info", msg, extra))

        def warning(self, msg: str, *, extra: Any = None) -> None:
            calls.append(("warning", msg, extra))

        def error(self, msg: str, *, extra: Any = None) -> None:
            calls.append(("error", msg, extra))

    fields = {"event": "callback"}
    for level in (logging.INFO, logging.WARNING, logging.ERROR):
        emit(Like(), level, "m", fields)
    assert calls == [("info", "m", fields), ("warning", "m", fields), ("error", "m", fields)]


def test_a_conflicting_field_is_swallowed_as_before() -> None:
    """A field logging refuses (``message``) loses the record, never raises, on either path."""
    for logger in (logging.Logger("tests.emit.conflict"), SubLogger("tests.emit.conflict.sub")):
        kept = Kept()
        logger.addHandler(kept)
        emit(logger, logging.ERROR, "m", {"message": "x"})
        assert kept.records == []


AWS_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def test_aws_loggers_lowered_between_invocations_are_raised_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each call puts a lowered AWS logger back to INFO, however it was lowered in between."""
    monkeypatch.delenv("SFN_CALLBACK_URLS_DEBUG_AWS", raising=False)
    quiet_aws_loggers()
    botocore = logging.getLogger("botocore")
    assert botocore.getEffectiveLevel() >= logging.INFO
    botocore.setLevel(logging.DEBUG)
    quiet_aws_loggers()
    assert botocore.level == logging.INFO
    logging.getLogger("urllib3").setLevel(5)
    quiet_aws_loggers()
    assert logging.getLogger("urllib3").level == logging.INFO
    quiet_aws_loggers()  # an answer from logging's isEnabledFor cache would now be stale:
    botocore.level = 15  # set as an attribute, which does not clear that cache
    quiet_aws_loggers()
    assert botocore.level == logging.INFO
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.INFO for name in AWS_LOGGERS)
    logging.getLogger("boto3").setLevel(logging.WARNING)  # above INFO: left as it is
    quiet_aws_loggers()
    assert logging.getLogger("boto3").level == logging.WARNING


def test_aws_loggers_under_a_root_at_debug_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS loggers left at NOTSET under a root logger at DEBUG get INFO of their own."""
    monkeypatch.delenv("SFN_CALLBACK_URLS_DEBUG_AWS", raising=False)
    root = logging.getLogger()
    saved = root.level
    for name in AWS_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    root.setLevel(logging.DEBUG)
    try:
        quiet_aws_loggers()
    finally:
        root.setLevel(saved)
    assert [logging.getLogger(name).level for name in AWS_LOGGERS] == [logging.INFO] * 4


def test_the_debug_aws_switch_leaves_the_levels_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SFN_CALLBACK_URLS_DEBUG_AWS=true a lowered AWS logger stays lowered, call after call."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_DEBUG_AWS", "true")
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    quiet_aws_loggers()
    quiet_aws_loggers()
    assert logging.getLogger("botocore").level == logging.DEBUG
    monkeypatch.delenv("SFN_CALLBACK_URLS_DEBUG_AWS")
    quiet_aws_loggers()  # switched off between invocations: raised on the next one
    assert logging.getLogger("botocore").level == logging.INFO
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    quiet_aws_loggers({"SFN_CALLBACK_URLS_DEBUG_AWS": "yes"})  # the environ it is given
    assert logging.getLogger("botocore").level == logging.DEBUG
