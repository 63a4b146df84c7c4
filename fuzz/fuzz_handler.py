"""Fuzz the whole `CallbackHandler.handle`: methods, headers, query strings, bodies, settings.

A `atheris.FuzzedDataProvider` turns each input into a handler configuration (POST actions,
output parameters, ``confirm_get``, mode, clock) and one request: a method, ``Accept`` and
``Content-Type`` headers (any case), a query string or mapping, and a body. The query is
often built around a *real* blob minted at start-up (every action type, both modes, POST
actions with schemas, output-parameter templates, an old key, an expired and a
foreign-purpose blob), so requests get past authentication and reach the method rules,
templates, POST bodies and rendering. A fake ``complete`` records completions (and sometimes
answers "already completed").

Completions go through the real `complete()` (so outputs are encoded as for Step Functions)
to a fake client that records them, or answers "already completed".

Pass conditions: ``handle()`` raises nothing and answers below 500; every header of the answer
is ASCII without line breaks and the security headers are there; a completion carries a token
we minted (no forgery), happens at most once and never for HEAD; the task token and the spliced
blob never appear in the response or in the log line; nothing tries to open a socket or the
sentinel schema file (URLs sealed with remote and ``file://`` ``$ref`` s are among the
fixtures). Strings come with lone surrogates too, bodies with JSON escapes of lone surrogates,
and query values with ``?``.

Run: ``python fuzz/fuzz_handler.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import _common
import atheris
from _common import CODECS, FIXED_NOW, FIXTURES, KNOWN_TOKENS, Fixture, Mode
from botocore.exceptions import ClientError

from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    CallbackResponse,
    Completion,
    complete,
)

METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "Post", ""]
ACCEPTS: list[str | None] = [
    None,
    "application/json",
    "text/html",
    "text/plain",
    "*/*",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html;q=0, */*",
    "text/*;q=0.5, application/json;q=0.1",
    "application/json;q=abc",
    "image/png",
    "",
]
CONTENT_TYPES: list[str | None] = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
]
PARAM_NAMES = ["user", "reason", "action", "type", "data", "who", "x", "$user", ""]
PARAM_VALUES = [
    "ben",
    "",
    "$user",
    "${reason}",
    "$",
    "$$",
    "<script>alert(1)</script>",
    "\"'&<>",
    "https://evil.example/",
    "//evil.example",
    "../../x",
    "a b+c%2F",
    "\u00e9\u4e2d\U0001f600",
    "x" * 3000,
    "why?",
    "a?b=c&d",
    "?",
    "\ud800",
    "x\udfff",
    "%ED%A0%80",
    "%FF%FE",
    "%0D%0ALocation: https://evil.example/",
]
BODIES = [
    b"",
    b'{"decision":"approve","note":"$user"}',
    b'{"decision":"approve"}',
    b'{"items":[{"id":1},{"id":"x"},{"noid":true}]}',
    b'{"items":[]}',
    b'{"error":"Boom","cause":"because"}',
    b'{"error":{"nested":[1,2]},"cause":null}',
    b'{"error":12}',
    b'{"ping":true}',
    b'"yes"',
    b'"no"',
    b"0.5",
    b"7",
    b"[]",
    b"null",
    b"not json",
    b"\xff\xfe{}",
    b'{"a":1,"a":2}',
    b"NaN",
    b"1e999",
    b"[" * 70 + b"]" * 70,
    b'{"decision":"approve","big":"' + b"x" * 300_000 + b'"}',
    b'{"decision":"approve","note":"\\ud800"}',
    b'{"items":[{"id":"\\udfff"},{"id":1}]}',
    b'{"error":"\\ud800","cause":"x"}',
    b'{"error":"E","cause":["\\udbff"]}',
    b'{"\\ud83d":true,"ping":1}',
    b'"\\ud800"',
    b'{"decision":"approve","ok":"\\ud83d\\ude00"}',
    b'{"choice":"a","x-tag":"ab-cd"}',
    b'{"choice":"b","x-tag":"' + b"a" * 40 + b'!"}',
    b"[" + b",".join(b"[1,2]" for _ in range(4000)) + b"]",
    # For the JSONPath regexes of the "sift" action: exponential on a backtracking engine.
    b'["' + b"a" * 5000 + b'!", "aaa", 1, null]',
    b'{"notes": ["' + b"x" * 4000 + b'", "' + b"a" * 4000 + b'!"]}',
    b'{"notes": ['
    + b",".join(b'"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"' for _ in range(2000))
    + b"]}",
]
#: What reads as a whole URL (cut at its first "?"): only an RFC 3986 scheme and "://".
_WHOLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_ACTIONS = [
    "approve",
    "reject",
    "decide",
    "sift",
    "vote",
    "still_working",
    "reject_reason",
    "nope",
    "",
]
#: What a query string may start with that makes it look like (part of) a URL.
_URL_LIKE_PREFIXES = ["/", "//", "?", "#", "/?", "//evil.example/respond?", "/respond?"]
_TYPES = ["success", "failure", "heartbeat", "post", "SUCCESS", ""]


class _LastLine(logging.Handler):
    """Keeps the handler's last log line (for the checks and for crash reports)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.line = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.line = record.getMessage()


_LOG = _LastLine()
_LOGGER = logging.getLogger("fuzz.handler")
_LOGGER.addHandler(_LOG)
_LOGGER.setLevel(logging.DEBUG)
_LOGGER.propagate = False


@dataclass
class FakeStepFunctions:
    """A Step Functions client: records each call, or answers "task timed out"."""

    fail: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        for value in kwargs.values():  # what botocore would have to serialize
            value.encode("utf-8")
        self.calls.append(kwargs)
        if self.fail:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "gone"}}, operation)
        return {}

    def send_task_success(self, **kwargs: Any) -> dict[str, Any]:
        """Record a success."""
        return self._call("SendTaskSuccess", kwargs)

    def send_task_failure(self, **kwargs: Any) -> dict[str, Any]:
        """Record a failure."""
        return self._call("SendTaskFailure", kwargs)

    def send_task_heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        """Record a heartbeat."""
        return self._call("SendTaskHeartbeat", kwargs)


@dataclass
class Recorder:
    """``complete`` through the real `complete()` to a fake client; records what was sent."""

    fail: bool = False
    completions: list[Completion] = field(default_factory=list)

    def __call__(self, completion: Completion, /) -> None:
        """Send ``completion`` (the fake client may refuse it)."""
        client = FakeStepFunctions(fail=self.fail)
        try:
            complete(completion, client=client)
        finally:
            if client.calls:
                self.completions.append(completion)


@dataclass
class Case:
    """One fuzz input, decoded: the handler's settings and the request."""

    request: CallbackRequest
    mode: Mode
    post_actions: bool
    output_parameters: bool
    confirm_get: bool
    now: datetime
    complete_fails: bool
    fixture: Fixture | None
    query_kind: int
    body_kind: int


def _pick(fdp: atheris.FuzzedDataProvider, options: list[Any]) -> Any:
    return options[fdp.ConsumeIntInRange(0, len(options) - 1)]


def _text(fdp: atheris.FuzzedDataProvider, limit: int) -> str:
    length = fdp.ConsumeIntInRange(0, limit)
    if fdp.ConsumeIntInRange(0, 3) == 0:  # lone surrogates too, as a parsed mapping may hold
        return fdp.ConsumeUnicode(length)
    return fdp.ConsumeUnicodeNoSurrogates(length)


def _value(fdp: atheris.FuzzedDataProvider) -> str:
    return _pick(fdp, PARAM_VALUES) if fdp.ConsumeBool() else _text(fdp, 40)


def _extra_params(fdp: atheris.FuzzedDataProvider) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        name = _pick(fdp, PARAM_NAMES) if fdp.ConsumeBool() else _text(fdp, 8)
        pairs.append((name, _value(fdp)))
    return pairs


def _encode(pairs: list[tuple[str, str]], fdp: atheris.FuzzedDataProvider) -> str:
    raw = fdp.ConsumeBool()  # unencoded too: adapters may hand over what the client sent
    return "&".join(f"{k}={v}" if raw else f"{_quote(k)}={_quote(v)}" for k, v in pairs)


def _quote(text: str) -> str:
    # Lone surrogates become the bytes a client could send for them (%ED%A0%80).
    return quote(text.encode("utf-8", "surrogatepass"))


def _query(fdp: atheris.FuzzedDataProvider, kind: int, fixture: Fixture) -> str | dict[str, str]:
    """The query: a string or a mapping, with or without the fixture's blob."""
    if kind == 0:  # the minted URL's query, verbatim
        return fixture.query
    if kind == 1:  # ... plus output parameters and other extras
        extras = _encode(_extra_params(fdp), fdp)
        return f"{fixture.query}&{extras}" if extras else fixture.query
    if kind == 2:  # the real blob with any action/type, in any order, plus extras
        pairs = [("data", fixture.blob)]
        if fdp.ConsumeBool():
            pairs.append(("action", _pick(fdp, _ACTIONS)))
        if fdp.ConsumeBool():
            pairs.append(("type", _pick(fdp, _TYPES)))
        pairs += _extra_params(fdp)
        fdp_order = fdp.ConsumeIntInRange(0, len(pairs) - 1)
        pairs = pairs[fdp_order:] + pairs[:fdp_order]
        return _encode(pairs, fdp)
    if kind == 3:  # a pre-parsed mapping (what some adapters pass)
        mapping = dict(_extra_params(fdp))
        mapping["data"] = fixture.blob
        if fdp.ConsumeBool():
            mapping["action"] = fixture.action["name"]
            mapping["type"] = fixture.action["type"]
        return mapping
    if kind == 4:  # the real blob, damaged at one place (or not: then it must work)
        blob = fixture.blob
        at = fdp.ConsumeIntInRange(0, len(blob))
        cut = fdp.ConsumeIntInRange(0, 3)
        return f"data={blob[:at]}{_text(fdp, 3)}{blob[at + cut :]}"
    if kind == 5:  # a whole URL, fragment and all
        return f"{fixture.url}#{_text(fdp, 10)}"
    if kind == 6:  # a '?' before the real query: read as a front end reads it
        junk = _pick(fdp, ["data=NOT-THE-BLOB?", "?", "x=1?", "", "data=?"])
        return f"{junk}&{fixture.query}" if fdp.ConsumeBool() else f"{junk}{fixture.query}"
    if kind == 7:  # a query starting like a URL, a second blob behind a '#'
        other = _pick(fdp, FIXTURES).blob
        tail = f"#&data={other}" if fdp.ConsumeBool() else ""
        return f"{_pick(fdp, _URL_LIKE_PREFIXES)}{fixture.query}{tail}"
    return _text(fdp, 300)  # anything at all


def _body(fdp: atheris.FuzzedDataProvider, kind: int) -> bytes:
    if kind == 0:
        return _pick(fdp, BODIES)
    if kind == 1:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
    if kind == 2:  # long runs for the JSONPath regexes, any length up to the body cap
        run = _pick(fdp, [b"a", b"x", b"ab", b"\u00e9"]) * fdp.ConsumeIntInRange(0, 60_000)
        tail = _pick(fdp, [b"!", b"", b"y", b"a"])
        if fdp.ConsumeBool():
            return b'["' + run + tail + b'"]'
        return b'{"notes": ["' + run + tail + b'", "x"]}'
    return _text(fdp, 200).encode("utf-8", "surrogatepass")  # CESU-style bytes too


def _headers(fdp: atheris.FuzzedDataProvider) -> dict[str, str]:
    headers: dict[str, str] = {}
    content_type = _pick(fdp, CONTENT_TYPES) if fdp.ConsumeIntInRange(0, 3) else _text(fdp, 60)
    if content_type is not None:
        headers[_pick(fdp, ["Content-Type", "content-type", "CONTENT-TYPE"])] = content_type
    accept = _pick(fdp, ACCEPTS) if fdp.ConsumeIntInRange(0, 3) else _text(fdp, 60)
    if accept is not None:
        headers[_pick(fdp, ["Accept", "accept", "ACCEPT"])] = accept
    return headers


def decode(data: bytes) -> Case:
    """Turn fuzz bytes into a handler configuration and a request (also used by make_corpus)."""
    fdp = atheris.FuzzedDataProvider(data)
    settings = fdp.ConsumeIntInRange(0, 15)
    mode = Mode.SIGNED if settings & 8 else Mode.ENCRYPTED
    fixture = _pick(fdp, FIXTURES)
    query_kind = fdp.ConsumeIntInRange(0, 8)
    body_kind = fdp.ConsumeIntInRange(0, 3)
    method = _pick(fdp, METHODS) if fdp.ConsumeIntInRange(0, 7) else _text(fdp, 10)
    now = FIXED_NOW + timedelta(seconds=_pick(fdp, [0, 0, 0, -7200, 29, 31, 86400 * 8]))
    complete_fails = fdp.ConsumeIntInRange(0, 9) == 0
    # Cheap choices first, so that short inputs still make complete requests.
    headers = _headers(fdp)
    body = _body(fdp, body_kind)
    query = _query(fdp, query_kind, fixture)
    spliced = fixture.blob in (query if isinstance(query, str) else query.values())
    for _ in range(fdp.ConsumeIntInRange(0, 2)):
        headers[_text(fdp, 12)] = _text(fdp, 30)
    return Case(
        request=CallbackRequest(method=method, query=query, headers=headers, body=body),
        mode=mode,
        post_actions=bool(settings & 1),
        output_parameters=bool(settings & 2),
        confirm_get=bool(settings & 4),
        now=now,
        complete_fails=complete_fails,
        fixture=fixture if spliced else None,
        query_kind=query_kind,
        body_kind=body_kind,
    )


def _request_text(request: CallbackRequest) -> str:
    """Everything the client sent (a secret it sent may be echoed back to it)."""
    query = request.query if isinstance(request.query, str) else repr(dict(request.query))
    return query + repr(dict(request.headers)) + request.body.decode("utf-8", "replace")


def _check(case: Case, response: CallbackResponse, recorder: Recorder) -> None:
    request, line = case.request, _LOG.line
    _common.check_no_side_effects()
    if not isinstance(response, CallbackResponse) or not 200 <= response.status < 500:
        raise AssertionError(f"status {getattr(response, 'status', response)!r}; log: {line}")
    if not isinstance(response.body, bytes):
        raise AssertionError(f"malformed response {response!r}")
    _common.check_answer_headers(response.headers, f"log: {line}")
    if len(recorder.completions) > 1:
        raise AssertionError(f"completed {len(recorder.completions)} times; log: {line}")
    for completion in recorder.completions:
        if completion.token not in KNOWN_TOKENS:
            raise AssertionError(f"completed with a forged token; log: {line}")
        if case.fixture is None:
            raise AssertionError(f"completed without a real blob; log: {line}")
    # A query string (not a scheme:// URL) is read whole: if an ordinary parser sees anything
    # but one data parameter, nothing may have been completed.
    query = request.query
    if recorder.completions and isinstance(query, str) and not _WHOLE_URL.match(query):
        names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
        if names.count("data") != 1:
            raise AssertionError(f"completed a query with {names.count('data')} data; {line}")
    method = str(request.method).upper()
    if method == "HEAD" and (recorder.completions or response.body):
        raise AssertionError(f"HEAD completed or has a body; log: {line}")
    if '"outcome":"completed"' in line and not recorder.completions:
        raise AssertionError(f"logged as completed but nothing was sent; log: {line}")
    if recorder.completions and response.status >= 400 and not case.complete_fails:
        raise AssertionError(f"completed yet answered {response.status}; log: {line}")
    # Secrets stay secret: not in the answer, not in the log line.
    answer = response.body.decode("utf-8", "replace") + repr(response.headers)
    secrets = set(KNOWN_TOKENS)
    if case.fixture is not None:
        secrets.add(case.fixture.blob)
    for secret in secrets:
        if secret in line:
            raise AssertionError("a task token or blob was logged")
        if secret in answer and secret not in _request_text(request):
            raise AssertionError("a task token or blob is in the response")


def test_one_input(data: bytes) -> None:
    """Handle one fuzzed request; check the answer and what was completed."""
    case = decode(data)
    recorder = Recorder(fail=case.complete_fails)
    handler = CallbackHandler(
        CODECS[case.mode],
        enable_output_parameters=case.output_parameters,
        enable_post_actions=case.post_actions,
        confirm_get=case.confirm_get,
        clock=lambda: case.now,
        complete=recorder,
        logger=_LOGGER,
    )
    _LOG.line = ""
    response = handler.handle(case.request)
    _check(case, response, recorder)


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv)
