"""Resource limits, through the handler and the WSGI/ASGI adapters called in-process.

Every oversized or pathological input is refused with a clean 4xx before it costs much: the
query string and blob lengths before any decoding, the body by ``Content-Length`` before it is
read (or while it streams in, if the length is missing or lies), nesting before the JSON Schema
sees the body, deflate output at a fixed cap. Nothing here asserts on time: where evaluation cost
matters, the test counts work (validator runs, equality checks, allocated bytes) instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import tracemalloc
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema._utils
import pytest

from helpers import KEY, bomb_blob  # tests/ is on sys.path
from sfn_callback_urls import _outcome as outcome_module
from sfn_callback_urls._codec import Codec, Mode
from sfn_callback_urls._complete import Completion
from sfn_callback_urls._contract import (
    MAX_BLOB_LENGTH,
    MAX_BODY_SIZE,
    MAX_DECOMPRESSED_SIZE,
    MAX_POST_BODY_DEPTH,
    MAX_POST_BODY_SIZE,
    MAX_QUERY_LENGTH,
)
from sfn_callback_urls._handler import CallbackHandler, CallbackRequest
from sfn_callback_urls._urls import Minter
from sfn_callback_urls._validation import parse_action
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app

BASE_URL = "https://callbacks.example.com/prod"
JSON_TYPE = "application/json"
APPROVE: dict[str, Any] = {"name": "approve", "type": "success", "output": {"ok": True}}
#: A POST action accepting any object, so that only the limits can refuse a body.
SUBMIT: dict[str, Any] = {
    "name": "submit",
    "type": "post",
    "outcomes": [{"name": "any", "type": "success", "schema": {}, "output_body": False}],
}
#: 100,000 levels of nesting (``[`` then the matching ``]``), well under the size cap.
DEEP = b"[" * 100_000 + b"]" * 100_000

# --- the three ways in: the handler, WSGI and ASGI --------------------------------------------


class Target:
    """One entry point (handler, WSGI app or ASGI app) in front of one `CallbackHandler`."""

    def __init__(self, kind: str, handler: CallbackHandler) -> None:
        self.kind = kind
        self.handler = handler

    def call(
        self,
        query: str,
        *,
        method: str = "GET",
        body: bytes = b"",
        content_type: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request with an honest Content-Length; the status and JSON body."""
        headers = {"accept": JSON_TYPE}
        if content_type:
            headers["content-type"] = content_type
        if self.kind == "handler":
            response = self.handler.handle(CallbackRequest(method, query, headers, body))
            return response.status, json.loads(response.body or b"null")
        if body:
            headers["content-length"] = str(len(body))
        if self.kind == "wsgi":
            return call_wsgi(self.handler, method, query, headers, io.BytesIO(body))
        return call_asgi(self.handler, method, query, headers, [body])[:2]


def call_wsgi(
    handler: CallbackHandler,
    method: str,
    query: str,
    headers: Mapping[str, str],
    stream: Any,
    **environ: Any,
) -> tuple[int, dict[str, Any]]:
    """Call the WSGI app with a hand-built environ; the status and JSON body."""
    captured: dict[str, str] = {}

    def start_response(status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
        captured["status"] = status
        return lambda _data: None

    base: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/prod/respond",
        "QUERY_STRING": query,
        "wsgi.input": stream,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        base[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    body = b"".join(make_wsgi_app(handler)({**base, **environ}, start_response))
    return int(captured["status"].split()[0]), json.loads(body or b"null")


def call_asgi(
    handler: CallbackHandler,
    method: str,
    query: str,
    headers: Mapping[str, str],
    chunks: list[bytes],
) -> tuple[int, dict[str, Any], int]:
    """Call the ASGI app on ``chunks``; the status, JSON body and how many chunks it read."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(chunks):  # pragma: no cover - the app read past the last chunk: a bug
            raise AssertionError("read past the end of the body")
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": "/prod/respond",
        "query_string": query.encode("latin-1"),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    asyncio.run(make_asgi_app(handler)(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"] or b"null"), read


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def codec() -> Codec:
    """A codec under the fixed test key (here, rather than conftest's fresh one)."""
    return Codec(KEY)


@pytest.fixture
def completions() -> list[Completion]:
    """What the handler sent to (fake) Step Functions."""
    return []


@pytest.fixture
def handler(codec: Codec, completions: list[Completion]) -> CallbackHandler:
    """A handler allowing POST actions and output parameters, completing into ``completions``."""
    return CallbackHandler(
        codec,
        enable_post_actions=True,
        enable_output_parameters=True,
        complete=completions.append,
    )


@pytest.fixture(params=["handler", "wsgi", "asgi"])
def target(request: pytest.FixtureRequest, handler: CallbackHandler) -> Target:
    """Each entry point in turn."""
    return Target(request.param, handler)


def query_for(codec: Codec, action: Mapping[str, Any], **options: Any) -> str:
    """The query string of a freshly minted URL for ``action``."""
    minted = Minter(codec, BASE_URL).mint("task-token", [parse_action(dict(action))], **options)
    return urlsplit(next(iter(minted.urls.values()))).query


def assert_refused(
    answer: tuple[int, dict[str, Any]], status: int, codes: set[str] | None = None
) -> None:
    """A JSON error body with ``status`` (and one of ``codes``)."""
    got, body = answer
    assert got == status, body
    assert set(body) == {"error", "message"}
    if codes is not None:
        assert body["error"] in codes


# --- query string and blob --------------------------------------------------------------------


def test_query_string_over_the_cap_is_413(
    target: Target, codec: Codec, completions: list[Completion]
) -> None:
    """A query string one character over MAX_QUERY_LENGTH is 413; at the cap it still works."""
    query = query_for(codec, APPROVE)
    at_cap = query + "&pad=" + "x" * (MAX_QUERY_LENGTH - len(query) - 5)
    assert len(at_cap) == MAX_QUERY_LENGTH

    assert_refused(target.call(at_cap + "x"), 413, {"PayloadTooLarge"})
    assert completions == []
    assert target.call(at_cap)[0] == 200
    assert len(completions) == 1


def test_blob_over_the_cap_is_413(target: Target, completions: list[Completion]) -> None:
    """A data parameter one character over MAX_BLOB_LENGTH is 413, before any decoding."""
    assert_refused(target.call("data=" + "A" * (MAX_BLOB_LENGTH + 1)), 413, {"PayloadTooLarge"})
    assert completions == []


@pytest.mark.parametrize("count", [65, 2_000])
def test_many_query_parameters_are_400(
    target: Target, codec: Codec, completions: list[Completion], count: int
) -> None:
    """More than 64 query parameters within the length cap is 400 InvalidPayload."""
    query = query_for(codec, APPROVE) + "".join(f"&{i % 10}" for i in range(count))
    assert len(query) <= MAX_QUERY_LENGTH
    assert_refused(target.call(query), 400, {"InvalidPayload"})
    assert completions == []


def test_huge_number_of_query_parameters_is_413(target: Target, codec: Codec) -> None:
    """100,000 query parameters are refused by the length cap before any parsing."""
    query = query_for(codec, APPROVE) + "&p" * 100_000
    assert_refused(target.call(query), 413, {"PayloadTooLarge"})


def test_parsed_query_with_huge_number_of_parameters_is_refused(
    handler: CallbackHandler, codec: Codec, completions: list[Completion]
) -> None:
    """A query given already parsed (a mapping) gets the raw query string's caps: 400 or 413."""
    query = dict(parse_qsl(query_for(codec, APPROVE)))
    few = {**query, **{f"p{i}": "x" for i in range(10)}}
    assert handler.handle(CallbackRequest("GET", few)).status == 200

    for extra in ({f"p{i}": "x" for i in range(100_000)}, {"pad": "x" * MAX_QUERY_LENGTH}):
        response = handler.handle(CallbackRequest("GET", {**query, **extra}))
        assert response.status in (400, 413)
        assert json.loads(response.body)["error"] in {"InvalidPayload", "PayloadTooLarge"}
    assert len(completions) == 1


# --- a deflate bomb inside a genuine blob -----------------------------------------------------


def bomb_query(mode: Mode, inflated_size: int) -> str:
    """The query of a genuine blob under KEY whose deflated action inflates to ``inflated_size``."""
    return f"action=approve&type=success&data={bomb_blob(mode, inflated_size, name='approve')}"


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_deflate_bomb_in_a_sealed_blob_is_400(mode: Mode, completions: list[Completion]) -> None:
    """A genuine blob inflating to 4 MiB is 400 InvalidPayload, never inflated past the cap."""
    handler = CallbackHandler(Codec(KEY, mode=mode), complete=completions.append)
    target = Target("wsgi", handler)
    # The same construction under the cap is a working URL: the bomb is genuine.
    assert target.call(bomb_query(mode, 1024))[0] == 200
    bomb = bomb_query(mode, 8 * MAX_DECOMPRESSED_SIZE)
    assert len(bomb) < MAX_QUERY_LENGTH

    tracemalloc.start()
    try:
        answer = target.call(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert_refused(answer, 400, {"InvalidPayload"})
    assert peak < 3 * MAX_DECOMPRESSED_SIZE  # under half the bomb: it was never inflated whole
    assert len(completions) == 1


# --- POST bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_content_length_over_the_cap_is_413_unread(
    kind: str, handler: CallbackHandler, codec: Codec, completions: list[Completion]
) -> None:
    """A Content-Length over MAX_BODY_SIZE is 413 before a byte of the body is read."""
    query = query_for(codec, SUBMIT)
    headers = {"content-type": JSON_TYPE, "content-length": str(MAX_BODY_SIZE + 1)}
    if kind == "wsgi":

        class Unreadable:
            def read(self, *_: Any) -> bytes:
                raise AssertionError("the body was read")

        answer = call_wsgi(handler, "POST", query, headers, Unreadable())
        assert_refused(answer, 413, {"PayloadTooLarge"})
    else:
        status, body, read = call_asgi(handler, "POST", query, headers, [b"{}"])
        assert_refused((status, body), 413, {"PayloadTooLarge"})
        assert read == 0
    assert completions == []


def test_body_between_the_caps_is_413_from_the_handler(
    target: Target, codec: Codec, completions: list[Completion]
) -> None:
    """A JSON body over MAX_POST_BODY_SIZE (but under the adapters' cap) is 413 PayloadTooLarge."""
    body = json.dumps({"pad": "x" * MAX_POST_BODY_SIZE}).encode()
    assert MAX_POST_BODY_SIZE < len(body) < MAX_BODY_SIZE
    answer = target.call(query_for(codec, SUBMIT), method="POST", body=body, content_type=JSON_TYPE)
    assert_refused(answer, 413, {"PayloadTooLarge"})
    assert completions == []


class BigStream:
    """A request body stream of ``size`` bytes that records how much was read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` more bytes."""
        n = self.size - self.consumed if n < 0 else min(n, self.size - self.consumed)
        self.consumed += n
        return b" " * n


def test_wsgi_missing_content_length_with_a_big_body_is_413(
    handler: CallbackHandler, codec: Codec, completions: list[Completion]
) -> None:
    """No Content-Length, a terminated 64 MiB input: 413 after reading at most the cap + 1."""
    stream = BigStream(64 * 1024 * 1024)
    answer = call_wsgi(
        handler,
        "POST",
        query_for(codec, SUBMIT),
        {"content-type": JSON_TYPE},
        stream,
        **{"wsgi.input_terminated": True},
    )
    assert_refused(answer, 413, {"PayloadTooLarge"})
    assert stream.consumed <= MAX_BODY_SIZE + 1
    assert completions == []


def test_wsgi_lying_content_length_reads_only_what_it_announced(
    handler: CallbackHandler, codec: Codec, completions: list[Completion]
) -> None:
    """A small Content-Length before a 64 MiB body: only the announced bytes are read (400)."""
    stream = BigStream(64 * 1024 * 1024)
    headers = {"content-type": JSON_TYPE, "content-length": "20"}
    answer = call_wsgi(handler, "POST", query_for(codec, SUBMIT), headers, stream)
    assert_refused(answer, 400, {"InvalidPostActionBody"})  # 20 spaces are not JSON
    assert stream.consumed == 20
    assert completions == []


@pytest.mark.parametrize("length", [None, "10"])
def test_asgi_missing_or_lying_content_length_with_a_big_body_is_413(
    handler: CallbackHandler, codec: Codec, completions: list[Completion], length: str | None
) -> None:
    """A 64 MiB body streamed in 64 KiB chunks, unannounced or under-announced: 413 at the cap."""
    headers = {"content-type": JSON_TYPE}
    if length is not None:
        headers["content-length"] = length
    chunks = [b" " * 65_536] * 1024
    status, body, read = call_asgi(handler, "POST", query_for(codec, SUBMIT), headers, chunks)
    assert_refused((status, body), 413, {"PayloadTooLarge"})
    assert read == MAX_BODY_SIZE // 65_536 + 1  # stopped at the first chunk over the cap
    assert completions == []


@pytest.mark.parametrize(
    "body", [DEEP, b'{"a":' * 40_000 + b"1" + b"}" * 40_000], ids=["arrays", "objects"]
)
def test_deeply_nested_body_is_400(
    target: Target, codec: Codec, completions: list[Completion], body: bytes
) -> None:
    """100,000 (or 40,000) levels of nesting is 400 InvalidPostActionBody, not a 500."""
    assert len(body) < MAX_POST_BODY_SIZE
    answer = target.call(query_for(codec, SUBMIT), method="POST", body=body, content_type=JSON_TYPE)
    assert_refused(answer, 400, {"InvalidPostActionBody"})
    assert completions == []


# --- JSON Schema evaluation -------------------------------------------------------------------

PATTERNED: dict[str, Any] = {
    "name": "submit",
    "type": "post",
    "outcomes": [
        {
            "name": "tagged",
            "type": "success",
            "output_body": True,
            "schema": {
                "type": "object",
                "required": ["tags"],
                "properties": {
                    "tags": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$"},
                    },
                },
                "patternProperties": {"^x-[a-z-]+$": {"type": "string", "pattern": "(a|b)+c"}},
            },
        }
    ],
}


@pytest.fixture
def schema_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The outcome names whose JSON Schema the handler evaluated."""
    runs: list[str] = []
    real = outcome_module._matches

    def counting(outcome: Any, body: Any) -> bool:
        runs.append(outcome.name)
        return real(outcome, body)

    monkeypatch.setattr(outcome_module, "_matches", counting)
    return runs


def test_patterned_schema_is_bounded_by_the_body_caps(
    handler: CallbackHandler,
    codec: Codec,
    completions: list[Completion],
    schema_runs: list[str],
    record_property: Callable[[str, object], None],
) -> None:
    """A patterned schema checks a 250 KiB body; bigger, deeper or busier bodies never reach it.

    Timed for the record (``record_property``), never asserted on.
    """
    query = query_for(codec, PATTERNED)
    tags = ["ab-cd-ef-gh-ij-kl-mn-op-qr-st"] * 7_500  # under MAX_POST_BODY_VALUES
    document = {"tags": tags, "x-note": "ab" * 10_000 + "c"}
    body = json.dumps(document, separators=(",", ":")).encode()
    assert 0.95 * MAX_POST_BODY_SIZE < len(body) <= MAX_POST_BODY_SIZE
    for attempt in range(3):
        started = time.perf_counter()
        answer = Target("handler", handler).call(
            query, method="POST", body=body, content_type=JSON_TYPE
        )
        record_property(f"seconds_{attempt}", round(time.perf_counter() - started, 4))
        assert answer[0] == 200
    assert schema_runs == ["tagged"] * 3
    assert len(completions) == 3

    too_big = json.dumps({"tags": tags * 2}).encode()
    too_deep = b'{"tags":' + b"[" * (MAX_POST_BODY_DEPTH + 1) + b"]" * (MAX_POST_BODY_DEPTH + 1)
    too_deep += b"}"
    too_many = json.dumps({"tags": ["a"] * 10_000}).encode()  # 10,002 values with the object
    for refused, status in ((too_big, 413), (too_deep, 400), (too_many, 400)):
        answer = Target("handler", handler).call(
            query, method="POST", body=refused, content_type=JSON_TYPE
        )
        assert answer[0] == status
    assert schema_runs == ["tagged"] * 3  # refused before validation
    assert len(completions) == 3


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
    ],
    ids=["self", "mutual"],
)
def test_ref_loop_in_a_schema_is_a_clean_400(
    handler: CallbackHandler, codec: Codec, completions: list[Completion], schema: dict[str, Any]
) -> None:
    """A $ref loop is 400 InvalidPostActionBody (the RecursionError is caught), not 500."""
    action = {
        "name": "submit",
        "type": "post",
        "outcomes": [{"name": "loop", "type": "success", "schema": schema}],
    }
    answer = Target("handler", handler).call(
        query_for(codec, action), method="POST", body=b'{"a":1}', content_type=JSON_TYPE
    )
    assert_refused(answer, 400, {"InvalidPostActionBody"})
    assert completions == []


def test_unique_items_is_not_quadratic_in_the_body(
    handler: CallbackHandler, codec: Codec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``uniqueItems`` over N distinct objects costs O(N log N) comparisons, not O(N²).

    jsonschema's own check compares every pair (objects can't be sorted): a body at the
    256 KiB cap holds about 22,000 ``{"a":N}``, some 250 million comparisons. Counted
    (jsonschema's ``equal``), not timed.
    """
    action = {
        "name": "submit",
        "type": "post",
        "outcomes": [
            {"name": "unique", "type": "success", "schema": {"type": "array", "uniqueItems": True}}
        ],
    }
    comparisons = 0
    real_equal = jsonschema._utils.equal

    def counting_equal(one: Any, two: Any) -> bool:
        nonlocal comparisons
        comparisons += 1
        return bool(real_equal(one, two))

    monkeypatch.setattr(jsonschema._utils, "equal", counting_equal)
    count = 1_000
    body = json.dumps([{"a": i} for i in range(count)]).encode()
    answer = Target("handler", handler).call(
        query_for(codec, action), method="POST", body=body, content_type=JSON_TYPE
    )
    assert answer[0] == 200
    assert comparisons <= 20 * count
