r"""Fuzz the HTTP front doors: the WSGI app, the ASGI app and the Lambda event adapters.

`fuzz_handler.py` calls `CallbackHandler.handle` with a ready `CallbackRequest`; every bug
that lives between the wire and that request (or between the response and the wire) is out of
its reach: ``Content-Length: ²`` crashed both apps, and a ``Location`` the servers could not
encode was only found by a person. This target builds what a server hands the app from fuzz
bytes, and checks what the app hands back as a server would:

* WSGI: a PEP 3333 environ (method, ``PATH_INFO``, ``QUERY_STRING``, ``CONTENT_LENGTH`` from a
  list of odd values or fuzzed text, ``wsgi.input``, ``wsgi.input_terminated``, ``HTTP_*``
  headers with any Latin-1 text, as servers decode them);
* ASGI: an HTTP scope (raw header bytes, query bytes) and the body in one to three
  ``http.request`` messages, sometimes cut short by ``http.disconnect``;
* Lambda: an API Gateway HTTP API (payload 2.0) or REST (payload 1.0, single- and
  multi-value query parameters) event, with a plain or base64 body, through the ready app's
  ``process_callback_handler`` (or ``create_urls_handler`` for ``/urls``), configured with the
  fixtures' key and a recording Step Functions client; a third of the events carry a lone
  surrogate somewhere (a key or a value, anywhere in the event), as the Lambda runtime decodes
  a ``"\ud800"`` escape in the event's JSON.

The query is often a minted URL's (every action type, redirects with Unicode, POST actions),
so requests reach the handler's deep paths. Completions go through the real `complete()` to a
recording client.

Pass conditions: the app raises nothing and answers below 500; every header is ASCII text
without line breaks (Latin-1 bytes for ASGI) and carries the security headers; a WSGI
``start_response`` is called once and ``Content-Length`` matches the body; a Lambda answer is
JSON-serializable as UTF-8 text (no lone surrogate in it); at most one completion, with a
token we minted; nothing opens a socket or the sentinel file.

Run: ``python fuzz/fuzz_http.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sys
from typing import Any
from urllib.parse import parse_qsl

import _common
import atheris
from _common import CODECS, FIXED_NOW, FIXTURES, KNOWN_TOKENS, Mode
from fuzz_handler import FakeStepFunctions, Recorder

from sfn_callback_urls import CallbackHandler
from sfn_callback_urls._config import Settings
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app
from sfn_callback_urls.aws_lambda import (
    App,
    create_urls_handler,
    process_callback_handler,
    reset_app,
)

METHODS = ["GET", "POST", "HEAD", "PUT", "get", "", "OPTIONS"]
PATHS = ["/respond", "/prod/respond", "/respond/", "/", "/urls", "/prod/respond/../respond"]
CONTENT_LENGTHS = [
    None,
    "",
    "0",
    "7",
    " 7 ",
    "²",
    "\u0665",
    "+5",
    "-1",
    "5, 5",
    "0x10",
    "1_0",
    "9" * 30,
    "5" * 5000,
    "524289",
    "99999999999999999",
]
CONTENT_TYPES = [None, "application/json", "application/vnd.x+json; charset=utf-8", "text/plain"]
ACCEPTS = [None, "application/json", "text/html", "text/plain", "*/*", "text/html;q=0, */*"]
BODIES = [
    b"",
    b'{"decision":"approve"}',
    b'{"decision":"approve","x":"\\ud800"}',
    b'{"choice":"a","x-tag":"ab-cd"}',
    b'{"error":"E","cause":"\\udfff"}',
    b'"yes"',
    b"0.5",
    b"not json",
    b"\xff\xfe",
]
_MAX_BODY = 4096  # small caps so that the 413 paths are reached too

_LOOP = asyncio.new_event_loop()


def _pick(fdp: atheris.FuzzedDataProvider, options: list[Any]) -> Any:
    return options[fdp.ConsumeIntInRange(0, len(options) - 1)]


def _latin1(fdp: atheris.FuzzedDataProvider, limit: int) -> str:
    """Text as a server hands it over: any bytes, decoded as Latin-1."""
    return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, limit)).decode("latin-1")


def _query(fdp: atheris.FuzzedDataProvider) -> str:
    fixture = _pick(fdp, FIXTURES)
    kind = fdp.ConsumeIntInRange(0, 4)
    if kind == 0:
        return fixture.query
    if kind == 1:  # extra parameters, raw: '?', '%', '&', non-ASCII and control characters
        return f"{fixture.query}&{_latin1(fdp, 40)}"
    if kind == 2:
        return f"{_latin1(fdp, 20)}{fixture.query}"
    if kind == 3:  # percent-encoded UTF-8 (or not UTF-8 at all) in output parameters
        value = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 12))
        return f"{fixture.query}&user={''.join(f'%{b:02X}' for b in value)}&reason=why?"
    return _latin1(fdp, 200)


def _body(fdp: atheris.FuzzedDataProvider) -> bytes:
    if fdp.ConsumeBool():
        return bytes(_pick(fdp, BODIES))
    return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))


def _headers(fdp: atheris.FuzzedDataProvider) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, options in (("content-type", CONTENT_TYPES), ("accept", ACCEPTS)):
        value = _pick(fdp, options) if fdp.ConsumeIntInRange(0, 3) else _latin1(fdp, 30)
        if value is not None:
            headers.append((name, value))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        headers.append((_latin1(fdp, 12) or "x", _latin1(fdp, 30)))
    return headers


def _content_length(fdp: atheris.FuzzedDataProvider, body: bytes) -> str | None:
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        return str(len(body))
    if choice == 1:
        return _latin1(fdp, 8)
    value: str | None = _pick(fdp, CONTENT_LENGTHS)
    return value


def _handler(fdp: atheris.FuzzedDataProvider, recorder: Recorder) -> CallbackHandler:
    settings = fdp.ConsumeIntInRange(0, 15)
    return CallbackHandler(
        CODECS[Mode.SIGNED if settings & 8 else Mode.ENCRYPTED],
        enable_output_parameters=bool(settings & 1),
        enable_post_actions=bool(settings & 2),
        confirm_get=bool(settings & 4),
        clock=lambda: FIXED_NOW,
        complete=recorder,
        logger=_common_logger(),
    )


def _common_logger() -> Any:
    import logging

    logger = logging.getLogger("fuzz.http")
    logger.disabled = True
    return logger


def _check_common(status: int, headers: Any, body: bytes, recorder: Recorder, where: str) -> None:
    _common.check_no_side_effects()
    if not 100 <= status < 500:
        raise AssertionError(f"{where}: status {status}")
    _common.check_answer_headers(headers, where)
    lowered = {name.lower(): value for name, value in headers}
    if lowered.get("content-length", str(len(body))) != str(len(body)):
        raise AssertionError(f"{where}: Content-Length {lowered['content-length']} != {len(body)}")
    if len(recorder.completions) > 1:
        raise AssertionError(f"{where}: completed {len(recorder.completions)} times")
    for completion in recorder.completions:
        if completion.token not in KNOWN_TOKENS:
            raise AssertionError(f"{where}: completed with a forged token")


def _wsgi(fdp: atheris.FuzzedDataProvider) -> int | None:
    recorder = Recorder()
    app = make_wsgi_app(_handler(fdp, recorder), max_body_size=_MAX_BODY)
    body = _body(fdp)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": _pick(fdp, METHODS),
        "SCRIPT_NAME": "",
        "PATH_INFO": _pick(fdp, PATHS) if fdp.ConsumeIntInRange(0, 7) else _latin1(fdp, 20),
        "QUERY_STRING": _query(fdp),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if fdp.ConsumeBool():
        environ["wsgi.input_terminated"] = True
    length = _content_length(fdp, body)
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    for name, value in _headers(fdp):
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    calls: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        calls.append((status, headers))
        return lambda data: None

    answer = b"".join(app(environ, start_response))
    if len(calls) != 1:
        raise AssertionError(f"wsgi: start_response called {len(calls)} times")
    status, headers = calls[0]
    code, _, reason = status.partition(" ")
    if not (code.isascii() and code.isdigit() and len(code) == 3 and reason):
        raise AssertionError(f"wsgi: malformed status line {status!r}")
    _check_common(int(code), headers, answer, recorder, "wsgi")
    return int(code)


def _asgi(fdp: atheris.FuzzedDataProvider) -> int | None:
    recorder = Recorder()
    app = make_asgi_app(_handler(fdp, recorder), max_body_size=_MAX_BODY)
    body = _body(fdp)
    headers = [
        (name.encode("latin-1").lower(), value.encode("latin-1")) for name, value in _headers(fdp)
    ]
    length = _content_length(fdp, body)
    if length is not None:
        headers.append((b"content-length", length.encode("utf-8", "surrogatepass")))
    cut = fdp.ConsumeIntInRange(0, len(body))
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:cut], "more_body": True},
        {"type": "http.request", "body": body[cut:], "more_body": False},
    ]
    if fdp.ConsumeIntInRange(0, 7) == 0:
        messages[1] = {"type": "http.disconnect"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": _pick(fdp, METHODS),
        "scheme": "http",
        "path": _pick(fdp, PATHS) if fdp.ConsumeIntInRange(0, 7) else _latin1(fdp, 20),
        "query_string": _query(fdp).encode("latin-1"),
        "headers": headers,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    _LOOP.run_until_complete(app(scope, receive, send))
    if not sent:
        if scope_disconnected(messages):
            return None  # the client went away: nothing to answer
        raise AssertionError("asgi: no answer")
    start = sent[0]
    if start["type"] != "http.response.start" or [m["type"] for m in sent[1:]] != [
        "http.response.body"
    ]:
        raise AssertionError(f"asgi: bad message sequence {[m['type'] for m in sent]}")
    for name, value in start["headers"]:
        if not (isinstance(name, bytes) and isinstance(value, bytes)):
            raise AssertionError("asgi: header names and values must be bytes")
    decoded = [
        (bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in start["headers"]
    ]
    _check_common(start["status"], decoded, sent[1]["body"], recorder, "asgi")
    return int(start["status"])


def scope_disconnected(remaining: list[dict[str, Any]]) -> bool:
    """Whether the fuzzed client disconnected (its disconnect message was consumed)."""
    return not remaining


#: The ready app's Step Functions client: records what it is sent.
_LAMBDA_SFN = FakeStepFunctions()
# The ready app's records (one per request) would all go to stderr through logging's last resort.
logging.getLogger("sfn_callback_urls.aws_lambda").disabled = True
reset_app(
    App(
        Settings.from_environment(
            {
                "SFN_CALLBACK_URLS_KEY": _common.KEY.to_string(),
                "SFN_CALLBACK_URLS_PURPOSE": "fuzz",
                "CALLBACK_BASE_URL": _common.BASE_URL,
                "ENABLE_POST_ACTIONS": "true",
                "ENABLE_OUTPUT_PARAMETERS": "true",
            }
        ),
        stepfunctions_client=_LAMBDA_SFN,
    )
)
_LONE = "\ud800"
_CREATE_BODIES = [
    b'{"token": "abc", "actions": [{"name": "a", "type": "success", "output": 1}]}',
    b'{"token": "abc", "actions": [{"name": "a", "type": "heartbeat"}], "x\\r\\ny": 1}',
    b'{"token": "\\ud800", "actions": []}',
]


def _poisoned(fdp: atheris.FuzzedDataProvider, event: Any) -> Any:
    """``event`` with a lone surrogate put into one of its strings (a key or a value).

    Not into a base64 body: that text is the platform's encoding, never a client's.
    """
    places: list[tuple[Any, Any, bool]] = []  # (container, key, the key itself?)
    stack = [event]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                places.append((item, key, True))
                if isinstance(value, str):
                    places.append((item, key, False))
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            for index, value in enumerate(item):
                if isinstance(value, str):
                    places.append((item, index, False))
                elif isinstance(value, (dict, list)):
                    stack.append(value)
    if event.get("isBase64Encoded"):
        places.remove((event, "body", False))
    container, key, is_key = _pick(fdp, places)
    if is_key:
        container[f"{key}{_LONE}"] = container.pop(key)
    else:
        text = container[key]
        at = fdp.ConsumeIntInRange(0, len(text))
        container[key] = text[:at] + _LONE + text[at:]
    return event


def _lambda(fdp: atheris.FuzzedDataProvider) -> int | None:
    path = _pick(fdp, PATHS)
    creating = path == "/urls"
    body = bytes(_pick(fdp, _CREATE_BODIES)) if creating and fdp.ConsumeBool() else _body(fdp)
    as_base64 = fdp.ConsumeBool()
    headers: dict[str, str] = {}
    for name, value in _headers(fdp):
        headers[name] = value
    method = "POST" if creating and fdp.ConsumeBool() else _pick(fdp, METHODS)
    query = _query(fdp)
    event: dict[str, Any]
    if fdp.ConsumeBool():
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
                "stage": "$default",
                "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
            },
        }
    else:  # REST: the query decoded by API Gateway, into single- and multi-value maps
        pairs = parse_qsl(query, keep_blank_values=True)
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        event = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": {name: values[-1] for name, values in multi.items()},
            "multiValueQueryStringParameters": multi,
            "requestContext": {"stage": "prod", "path": f"/prod{path}", "identity": {}},
        }
    event["body"] = base64.b64encode(body).decode() if as_base64 else body.decode("latin-1")
    event["isBase64Encoded"] = as_base64
    if fdp.ConsumeIntInRange(0, 2) == 0:
        event = _poisoned(fdp, event)
    _LAMBDA_SFN.calls.clear()
    answer = (create_urls_handler if creating else process_callback_handler)(event, None)
    # What the Lambda runtime does with it: JSON, sent as UTF-8.
    json.dumps(answer, ensure_ascii=False).encode("utf-8")
    if "statusCode" not in answer:  # a direct invocation's answer (the event is not HTTP)
        return None
    headers_out = list(answer["headers"].items())
    recorder = Recorder()
    _check_common(answer["statusCode"], headers_out, _body_of(answer), recorder, "lambda")
    if len(_LAMBDA_SFN.calls) > 1:
        raise AssertionError(f"lambda: completed {len(_LAMBDA_SFN.calls)} times")
    for call in _LAMBDA_SFN.calls:
        if call.get("taskToken") not in KNOWN_TOKENS:
            raise AssertionError("lambda: completed with a forged token")
    return int(answer["statusCode"])


def _body_of(answer: dict[str, Any]) -> bytes:
    if answer["isBase64Encoded"]:
        return base64.b64decode(answer["body"])
    return str(answer["body"]).encode("utf-8")


DOORS = ("wsgi", "asgi", "lambda")


def run(data: bytes) -> tuple[str, int | None]:
    """One request through the WSGI app, the ASGI app or the Lambda adapters.

    Returns which door, and the answer's status (``None`` when there was none); make_corpus
    uses it to choose seeds.
    """
    fdp = atheris.FuzzedDataProvider(data)
    door = fdp.ConsumeIntInRange(0, 2)
    return DOORS[door], (_wsgi, _asgi, _lambda)[door](fdp)


def test_one_input(data: bytes) -> None:
    """One request through the WSGI app, the ASGI app or the Lambda adapters; check the answer."""
    run(data)


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv)
