"""The adapters translate, and only translate: Lambda events, WSGI environs and ASGI scopes."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import load_event  # tests/ is on sys.path
from sfn_callback_urls import adapters
from sfn_callback_urls._contract import MAX_BODY_SIZE
from sfn_callback_urls._handler import CallbackRequest, CallbackResponse
from sfn_callback_urls._render import reason_phrase
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app
from sfn_callback_urls.adapters._common import is_callback_path
from sfn_callback_urls.adapters._lambda_events import (
    EventSource,
    _query_string,
    alb_event_to_request,
    api_gateway_http_event_to_request,
    api_gateway_rest_event_to_request,
    detect_event_source,
    event_to_request,
    function_url_event_to_request,
    is_http_event,
    request_path,
    response_to_alb_event,
    response_to_api_gateway_http_event,
    response_to_api_gateway_rest_event,
    response_to_event,
    response_to_function_url_event,
)
from sfn_callback_urls.errors import UnsupportedEvent

BLOB = "EQTR0rKNAQ_a-b_c"
JSON_BODY = b'{"decision": "ship it"}'


def pairs(request: CallbackRequest) -> list[tuple[str, str]]:
    """The request's query, decoded once as the handler decodes it."""
    assert isinstance(request.query, str)
    return parse_qsl(request.query, keep_blank_values=True)


class RecordingHandler:
    """A stand-in for CallbackHandler: remembers requests, answers a fixed response."""

    def __init__(self, response: CallbackResponse | None = None) -> None:
        self.requests: list[CallbackRequest] = []
        self.response = response or CallbackResponse(
            200, {"Content-Type": "application/json"}, b'{"ok":true}'
        )

    def handle(self, request: CallbackRequest) -> CallbackResponse:
        """Record the request."""
        self.requests.append(request)
        return self.response


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("apigw_v1", EventSource.API_GATEWAY_REST),
        ("apigw_v2", EventSource.API_GATEWAY_HTTP),
        ("function_url", EventSource.FUNCTION_URL),
        ("alb", EventSource.ALB),
        ("alb_multivalue", EventSource.ALB),
    ],
)
def test_detects_each_event_source(name: str, source: EventSource) -> None:
    """Each sample event is recognised as what it is."""
    event = load_event(name)
    assert detect_event_source(event) is source
    assert is_http_event(event)


@pytest.mark.parametrize(
    "event",
    [{}, {"token": "t", "actions": []}, {"version": "2.0"}, [], "text", None],
)
def test_other_events_are_unsupported(event: Any) -> None:
    """A direct invocation or anything else is not an HTTP event."""
    assert not is_http_event(event)
    with pytest.raises(UnsupportedEvent):
        event_to_request(event)


def test_event_source_values_are_powertools_names() -> None:
    """The enum's values are Powertools' ProxyEventType names."""
    assert [source.value for source in EventSource] == [
        "APIGatewayProxyEvent",
        "APIGatewayProxyEventV2",
        "LambdaFunctionUrlEvent",
        "ALBEvent",
    ]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("apigw_v1", "/respond"),
        ("apigw_v2", "/v1/respond"),
        ("function_url", "/respond"),
        ("alb", "/callbacks/respond"),
    ],
)
def test_request_path(name: str, path: str) -> None:
    """The path comes from `path` (v1, ALB) or `rawPath` (v2)."""
    assert request_path(load_event(name)) == path


# --- events to requests ------------------------------------------------------------------------


def test_api_gateway_rest_event() -> None:
    """REST: decoded multi-value parameters are re-encoded, headers lower-cased."""
    request = event_to_request(load_event("apigw_v1"))
    assert request == api_gateway_rest_event_to_request(load_event("apigw_v1"))
    assert request.method == "GET"
    assert pairs(request) == [
        ("action", "approve"),
        ("type", "success"),
        ("data", BLOB),
        ("comment", "two words"),
        ("comment", "x&y"),
    ]
    assert request.headers["host"] == "abcdef1234.execute-api.us-east-1.amazonaws.com"
    assert request.headers["x-forwarded-for"] == "203.0.113.7, 130.176.1.130"
    assert all(name == name.lower() for name in request.headers)
    assert request.body == b""


def test_api_gateway_rest_event_without_multi_values() -> None:
    """REST events built by hand with single values only still translate."""
    event = load_event("apigw_v1")
    event["multiValueQueryStringParameters"] = None
    del event["multiValueHeaders"]
    request = event_to_request(event)
    assert ("comment", "x&y") in pairs(request)
    assert request.headers["accept-language"] == "en-US,en;q=0.5"


def test_repeated_data_stays_visible() -> None:
    """Two `data` values both reach the handler, which refuses them."""
    event = load_event("apigw_v1")
    event["multiValueQueryStringParameters"]["data"] = ["first", "second"]
    assert [value for name, value in pairs(event_to_request(event)) if name == "data"] == [
        "first",
        "second",
    ]


def test_api_gateway_rest_base64_body() -> None:
    """A base64-encoded body arrives as its bytes."""
    event = load_event("apigw_v1")
    event.update(
        httpMethod="POST", body=base64.b64encode(b"\x00\xff").decode(), isBase64Encoded=True
    )
    request = event_to_request(event)
    assert request.method == "POST"
    assert request.body == b"\x00\xff"


def test_invalid_base64_body_is_refused() -> None:
    """A body flagged base64 that is not base64 is an unsupported event, not a crash."""
    event = load_event("apigw_v1")
    event.update(body="not base64!", isBase64Encoded=True)
    with pytest.raises(UnsupportedEvent):
        event_to_request(event)


def test_api_gateway_http_event() -> None:
    """HTTP API: rawQueryString verbatim, cookies back in a cookie header, text body."""
    event = load_event("apigw_v2")
    request = event_to_request(event)
    assert request == api_gateway_http_event_to_request(event)
    assert request.method == "POST"
    assert request.query == event["rawQueryString"]
    assert ("comment", "x&y") in pairs(request)
    assert request.headers["cookie"] == "session=abc123; theme=dark"
    assert request.headers["x-custom"] == "one,two"
    assert request.body == JSON_BODY


def test_api_gateway_http_event_without_raw_query() -> None:
    """Without rawQueryString, the (decoded) parameters are encoded again."""
    event = load_event("apigw_v2")
    del event["rawQueryString"]
    assert ("data", BLOB) in pairs(event_to_request(event))


def test_function_url_event() -> None:
    """A function URL event has the 2.0 shape."""
    event = load_event("function_url")
    request = event_to_request(event)
    assert request == function_url_event_to_request(event)
    assert request.method == "GET"
    assert pairs(request) == [("action", "approve"), ("type", "success"), ("data", BLOB)]
    assert request.headers["cookie"] == "session=abc123"
    assert request.body == b""


def test_alb_event_query_is_decoded_once() -> None:
    """ALB passes parameters still URL-encoded: they are decoded exactly once."""
    event = load_event("alb")
    request = event_to_request(event)
    assert request == alb_event_to_request(event)
    assert dict(pairs(request)) == {
        "action": "approve",
        "type": "success",
        "data": BLOB,
        "comment": "two words&more",
    }
    assert request.headers["host"] == "lambda-alb-123578498.us-east-2.elb.amazonaws.com"
    assert request.body == b""


def test_alb_multi_value_event() -> None:
    """ALB with multi-value headers: repeated parameters and headers, base64 body."""
    request = event_to_request(load_event("alb_multivalue"))
    assert request.method == "POST"
    assert [value for name, value in pairs(request) if name == "comment"] == ["two words", "x&y"]
    assert request.headers["x-custom"] == "one, two"
    assert request.headers["content-type"] == "application/json"
    assert request.body == JSON_BODY


# --- responses to events -----------------------------------------------------------------------

JSON_RESPONSE = CallbackResponse(
    200, {"Content-Type": "application/json; charset=utf-8"}, b'{"caf\xc3\xa9":1}'
)
PNG_RESPONSE = CallbackResponse(200, {"Content-Type": "image/png"}, b"\x89PNG\r\n")


@pytest.mark.parametrize(
    "convert",
    [
        response_to_api_gateway_rest_event,
        response_to_api_gateway_http_event,
        response_to_function_url_event,
        response_to_alb_event,
    ],
)
def test_text_goes_out_as_text_and_binary_as_base64(convert: Any) -> None:
    """Textual bodies are sent as text; anything else base64-encoded."""
    text = convert(JSON_RESPONSE)
    assert text["statusCode"] == 200
    assert text["body"] == '{"café":1}'
    assert text["isBase64Encoded"] is False
    binary = convert(PNG_RESPONSE)
    assert base64.b64decode(binary["body"]) == PNG_RESPONSE.body
    assert binary["isBase64Encoded"] is True
    empty = convert(CallbackResponse(204))
    assert (empty["body"], empty["isBase64Encoded"]) == ("", False)


@pytest.mark.parametrize(
    "content_type",
    ["text/html; charset=utf-8", "text/plain", "application/problem+json", "application/xml"],
)
def test_textual_content_types(content_type: str) -> None:
    """text/*, JSON and XML types count as text."""
    event = response_to_event(
        CallbackResponse(400, {"content-type": content_type}, b"<p>no</p>"),
        load_event("apigw_v1"),
    )
    assert event == {
        "statusCode": 400,
        "headers": {"content-type": content_type},
        "body": "<p>no</p>",
        "isBase64Encoded": False,
    }


def test_text_that_is_not_utf8_goes_out_as_base64() -> None:
    """A text type whose bytes are not UTF-8 is sent base64-encoded rather than mangled."""
    event = response_to_api_gateway_rest_event(
        CallbackResponse(200, {"Content-Type": "text/plain; charset=latin-1"}, b"caf\xe9")
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"caf\xe9"


def test_http_api_response_moves_set_cookie_to_cookies() -> None:
    """Payload 2.0 answers carry cookies in `cookies`."""
    event = response_to_event(
        CallbackResponse(302, {"Location": "https://example.com/", "Set-Cookie": "a=b"}),
        load_event("apigw_v2"),
    )
    assert event["headers"] == {"Location": "https://example.com/"}
    assert event["cookies"] == ["a=b"]


def test_alb_response_has_status_description_and_single_headers() -> None:
    """ALB answers say `statusDescription`; single-value headers when the event had them."""
    event = response_to_event(JSON_RESPONSE, load_event("alb"))
    assert event["statusDescription"] == "200 OK"
    assert event["headers"] == {"Content-Type": "application/json; charset=utf-8"}
    assert "multiValueHeaders" not in event


def test_alb_multi_value_response() -> None:
    """With multi-value headers on, the answer must use `multiValueHeaders` only."""
    event = response_to_event(
        CallbackResponse(409, {"Content-Type": "application/json"}, b"{}"),
        load_event("alb_multivalue"),
    )
    assert event == {
        "statusCode": 409,
        "statusDescription": "409 Conflict",
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": "{}",
        "isBase64Encoded": False,
    }


def test_reason_phrases() -> None:
    """Known statuses get their phrase, others "Unknown"."""
    assert reason_phrase(404) == "Not Found"
    assert reason_phrase(599) == "Unknown"


def test_callback_paths() -> None:
    """Any path ending in /respond is the callback endpoint."""
    assert is_callback_path("/respond")
    assert is_callback_path("/prod/callbacks/respond")
    assert not is_callback_path("/")
    assert not is_callback_path("/respond/")
    assert not is_callback_path("/correspond")


def test_package_exports_lazily() -> None:
    """The package re-exports its adapters' entry points."""
    assert adapters.make_wsgi_app is make_wsgi_app
    assert adapters.event_to_request is event_to_request
    with pytest.raises(AttributeError):
        _ = adapters.no_such_name


# --- WSGI, called directly ---------------------------------------------------------------------


def call_wsgi(
    app: Any, path: str, *, method: str = "GET", body: bytes = b"", **environ: Any
) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app; return status line, headers and body."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured.update(status=status, headers=dict(headers))
        return lambda _data: None

    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "action=approve&data=x",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": "application/json" if body else "",
        "HTTP_ACCEPT": "application/json",
        "HTTP_X_CUSTOM_HEADER": "yes",
        "wsgi.input": io.BytesIO(body),
    }
    result: Iterable[bytes] = app({**base, **environ}, start_response)
    return captured["status"], captured["headers"], b"".join(result)


def test_wsgi_translates_the_request() -> None:
    """Method, raw query, headers and body reach the handler unchanged."""
    handler = RecordingHandler()
    status, headers, body = call_wsgi(
        make_wsgi_app(handler), "/x/respond", method="post", body=JSON_BODY
    )
    assert status == "200 OK"
    assert headers["Content-Length"] == str(len(body))
    assert body == b'{"ok":true}'
    (request,) = handler.requests
    assert request.method == "POST"
    assert request.query == "action=approve&data=x"
    assert request.headers["x-custom-header"] == "yes"
    assert request.headers["content-type"] == "application/json"
    assert request.body == JSON_BODY


def test_wsgi_unknown_path_is_404() -> None:
    """Other paths answer 404 JSON without calling the handler."""
    handler = RecordingHandler()
    status, headers, body = call_wsgi(make_wsgi_app(handler), "/other")
    assert status == "404 Not Found"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "NotFound"
    assert handler.requests == []


def test_wsgi_refuses_large_bodies_unread() -> None:
    """A Content-Length over the cap is 413 before reading anything."""
    handler = RecordingHandler()
    status, _, body = call_wsgi(
        make_wsgi_app(handler, max_body_size=10), "/respond", body=b"x" * 11
    )
    # Python 3.13 renamed the phrase (RFC 9110): "Request Entity Too Large" -> "Content Too Large".
    assert HTTPStatus(413).phrase in {"Request Entity Too Large", "Content Too Large"}
    assert status == f"413 {HTTPStatus(413).phrase}"
    assert json.loads(body)["error"] == "PayloadTooLarge"
    assert handler.requests == []


@pytest.mark.parametrize("length", ["abc", "-1", "5"])
def test_wsgi_bad_content_length_is_400(length: str) -> None:
    """An invalid Content-Length, or a body shorter than announced, is 400."""
    handler = RecordingHandler()
    status, _, _ = call_wsgi(
        make_wsgi_app(handler), "/respond", CONTENT_LENGTH=length, **{"wsgi.input": io.BytesIO()}
    )
    assert status.startswith("400")
    assert handler.requests == []


def test_wsgi_reads_terminated_input_without_length() -> None:
    """With wsgi.input_terminated and no Content-Length, the body is read to its end, capped."""
    handler = RecordingHandler()
    app = make_wsgi_app(handler, max_body_size=5)
    call_wsgi(app, "/respond", **{"wsgi.input": io.BytesIO(b"abc"), "wsgi.input_terminated": True})
    assert handler.requests[0].body == b"abc"
    status, _, _ = call_wsgi(
        app, "/respond", **{"wsgi.input": io.BytesIO(b"abcdef"), "wsgi.input_terminated": True}
    )
    assert status.startswith("413")


# --- ASGI, called directly ---------------------------------------------------------------------


def call_asgi(
    app: Any,
    scope: dict[str, Any],
    messages: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Run an ASGI app on one scope with the given incoming messages; return what it sent."""
    sent: list[dict[str, Any]] = []
    incoming = list(messages)

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # pragma: no cover - a test would hang here: a bug
        raise AssertionError

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(path: str = "/respond", **extra: Any) -> dict[str, Any]:
    """An ASGI HTTP scope."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "query_string": b"action=approve&data=x",
        "headers": [(b"content-type", b"application/json"), (b"X-Two", b"a"), (b"x-two", b"b")],
        **extra,
    }


def test_asgi_translates_the_request() -> None:
    """Method, raw query, headers and a body in several chunks reach the handler."""
    handler = RecordingHandler()
    sent = call_asgi(
        make_asgi_app(handler),
        http_scope("/prefix/respond"),
        [
            {"type": "http.request", "body": JSON_BODY[:5], "more_body": True},
            {"type": "http.request", "body": JSON_BODY[5:], "more_body": False},
        ],
    )
    (request,) = handler.requests
    assert request == CallbackRequest(
        method="POST",
        query="action=approve&data=x",
        headers={"content-type": "application/json", "x-two": "a, b"},
        body=JSON_BODY,
    )
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    assert (b"content-length", b"11") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b'{"ok":true}', "more_body": False}


def test_asgi_unknown_path_is_404() -> None:
    """Other paths answer 404 JSON without reading the body or calling the handler."""
    handler = RecordingHandler()
    sent = call_asgi(make_asgi_app(handler), http_scope("/"), [])
    assert sent[0]["status"] == 404
    assert json.loads(sent[1]["body"])["error"] == "NotFound"
    assert handler.requests == []


def test_asgi_refuses_large_bodies() -> None:
    """Over the cap is 413: by Content-Length up front, or while reading."""
    handler = RecordingHandler()
    app = make_asgi_app(handler, max_body_size=4)
    declared = http_scope(headers=[(b"content-length", b"5")])
    assert call_asgi(app, declared, [])[0]["status"] == 413
    streamed = call_asgi(
        app,
        http_scope(headers=[]),
        [
            {"type": "http.request", "body": b"abc", "more_body": True},
            {"type": "http.request", "body": b"de", "more_body": False},
        ],
    )
    assert streamed[0]["status"] == 413
    bad = call_asgi(app, http_scope(headers=[(b"content-length", b"x")]), [])
    assert bad[0]["status"] == 400
    assert handler.requests == []


def test_asgi_client_gone_sends_nothing() -> None:
    """A disconnect while reading the body ends the request without an answer."""
    handler = RecordingHandler()
    assert call_asgi(make_asgi_app(handler), http_scope(), [{"type": "http.disconnect"}]) == []
    assert handler.requests == []


def test_asgi_lifespan() -> None:
    """Startup and shutdown are acknowledged."""
    sent = call_asgi(
        make_asgi_app(RecordingHandler()),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
    )
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_asgi_refuses_websockets() -> None:
    """Unsupported scope types raise, as the ASGI specification asks."""
    with pytest.raises(ValueError, match="websocket"):
        call_asgi(make_asgi_app(RecordingHandler()), {"type": "websocket", "path": "/respond"}, [])


def test_default_body_cap_leaves_room_for_step_functions_output() -> None:
    """The default cap is above Step Functions' 256 KiB output limit."""
    assert MAX_BODY_SIZE > 256 * 1024


@given(
    st.lists(
        st.tuples(st.text(max_size=8), st.text(alphabet="ab_-.~ &=%+é", max_size=8)), max_size=6
    )
)
def test_rebuilt_queries_are_urlencodes(pairs: list[tuple[str, str]]) -> None:
    """A REST event's decoded parameters become urlencode's query, with or without escapes."""
    from urllib.parse import urlencode

    from sfn_callback_urls.adapters._lambda_events import _query_string

    assert _query_string(pairs) == urlencode(pairs)


# --- the fast paths of reading an event say what the plain code says --------------------------

_QUERY_TEXT = st.text(
    st.sampled_from([*"aZ09_.~-=&+ %/?#", "\u00e9", "\u2603", "\x00"]), max_size=12
)


@given(st.lists(st.tuples(_QUERY_TEXT, _QUERY_TEXT), max_size=5))
def test_the_rebuilt_query_string_is_urlencodes(pairs: list[tuple[str, str]]) -> None:
    """The REST adapter's query string is urlencode(pairs), with or without its fast path."""
    assert _query_string(pairs) == urlencode(pairs)


def _merged_headers(single: dict[str, Any]) -> dict[str, str]:
    """The header merging loop the fast path must agree with (RFC 9110 joining)."""
    headers: dict[str, str] = {}
    for name, value in single.items():
        if value is not None:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else str(value)
    return headers


@given(
    st.dictionaries(
        st.sampled_from(["Accept", "accept", "ACCEPT", "User-Agent", "user-agent", "X-A", "x-b"]),
        st.one_of(st.none(), st.text(max_size=5), st.integers()),
        max_size=6,
    )
)
def test_single_value_headers_read_as_the_merging_loop_reads_them(single: dict[str, Any]) -> None:
    """Names differing in case are merged, None values dropped, order kept: on every path."""
    event = load_event("apigw_v1")
    event["headers"] = single
    event["multiValueHeaders"] = None
    headers = api_gateway_rest_event_to_request(event).headers
    assert list(headers.items()) == list(_merged_headers(single).items())
