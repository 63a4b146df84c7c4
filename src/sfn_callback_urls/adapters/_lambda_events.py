r"""Lambda events to `CallbackRequest`, and `CallbackResponse` back to Lambda's answer.

Four event sources, named as in Powertools for AWS Lambda (``ProxyEventType``):

========================  ===================================  ==============================
`EventSource`      event                                response
========================  ===================================  ==============================
``API_GATEWAY_REST``      API Gateway REST proxy (payload 1.0,  ``statusCode``, ``headers``,
                          also HTTP APIs set to payload 1.0)    ``body``, ``isBase64Encoded``
``API_GATEWAY_HTTP``      API Gateway HTTP API (payload 2.0)    same, ``cookies`` for cookies
``FUNCTION_URL``          Lambda function URL (2.0 shape)       as ``API_GATEWAY_HTTP``
``ALB``                   ALB target group                      plus ``statusDescription``;
                                                                ``multiValueHeaders`` when the
                                                                target group sends them
========================  ===================================  ==============================

`event_to_request()` and `response_to_event()` detect the source; the per-source
functions skip detection. The query string is rebuilt from every value of every parameter
(``rawQueryString`` as is, when the event has one) so that a repeated ``data`` stays visible to
the handler, which refuses it. ALB events carry query parameters still URL-encoded: they are
joined as they are and decoded once, by the handler, like any raw query string.

A Lambda event is JSON, whose ``\ud800`` escapes decode to lone surrogates, which no HTTP
request can carry and UTF-8 cannot encode. The adapters never fail on them: a body is passed on
as the bytes such text stands for (WTF-8: ``\xed\xa0\x80``, which every UTF-8 decoder
refuses, so the handler answers its usual 400 for an undecodable body), and query parameters
that cannot be encoded are passed on as they are, parsed (the handler refuses them, 400).

Response bodies go out as text (``isBase64Encoded: false``) when the content type is textual and
the bytes are UTF-8, and base64-encoded otherwise.
"""

from __future__ import annotations

import base64
import binascii
import enum
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .._contract import is_unicode_text
from .._handler import CallbackRequest, CallbackResponse
from .._http_headers import add_header, header, media_type
from .._render import reason_phrase
from ..errors import UnsupportedEvent

__all__ = [
    "EventSource",
    "alb_event_to_request",
    "api_gateway_http_event_to_request",
    "api_gateway_rest_event_to_request",
    "detect_event_source",
    "event_to_request",
    "function_url_event_to_request",
    "is_http_event",
    "request_path",
    "response_to_alb_event",
    "response_to_api_gateway_http_event",
    "response_to_api_gateway_rest_event",
    "response_to_event",
    "response_to_function_url_event",
]

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
    }
)


class EventSource(str, enum.Enum):
    """Where a Lambda event comes from; values are Powertools' ``ProxyEventType`` names."""

    API_GATEWAY_REST = "APIGatewayProxyEvent"
    """API Gateway REST API (payload format 1.0)."""
    API_GATEWAY_HTTP = "APIGatewayProxyEventV2"
    """API Gateway HTTP API (payload format 2.0)."""
    FUNCTION_URL = "LambdaFunctionUrlEvent"
    """A Lambda function URL (the 2.0 shape)."""
    ALB = "ALBEvent"
    """An Application Load Balancer target group."""


# --- detection -------------------------------------------------------------------------------


def detect_event_source(event: Mapping[str, Any]) -> EventSource:
    """The source of ``event``.

    Raises:
        UnsupportedEvent: it is none of the four.
    """
    if not isinstance(event, Mapping):
        raise UnsupportedEvent
    context = event.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    if "elb" in context:
        return EventSource.ALB
    if event.get("version") == "2.0" and isinstance(context.get("http"), Mapping):
        if ".lambda-url." in str(context.get("domainName", "")):
            return EventSource.FUNCTION_URL
        return EventSource.API_GATEWAY_HTTP
    if "httpMethod" in event:
        return EventSource.API_GATEWAY_REST
    raise UnsupportedEvent


def is_http_event(event: Any) -> bool:
    """Whether ``event`` is one of the four HTTP events (and not, say, a direct invocation)."""
    try:
        detect_event_source(event)
    except UnsupportedEvent:
        return False
    return True


def request_path(event: Mapping[str, Any]) -> str:
    """The request path of any of the four events (``""`` when the event has none)."""
    return path_of(event, detect_event_source(event))


def event_to_request(event: Mapping[str, Any]) -> CallbackRequest:
    """A `CallbackRequest` from any of the four events.

    Raises:
        UnsupportedEvent: the event is none of them.
    """
    return _TO_REQUEST[detect_event_source(event)](event)


def response_to_event(response: CallbackResponse, event: Mapping[str, Any]) -> dict[str, Any]:
    """Lambda's answer to ``event`` (any of the four) for ``response``.

    Raises:
        UnsupportedEvent: the event is none of them.
    """
    return answer_to(response, event, detect_event_source(event))


# The same three for an event whose source is known: the ready Lambda handler detects it once
# per invocation instead of once per step (not public: ``source`` must be the event's own).


def path_of(event: Mapping[str, Any], source: EventSource) -> str:
    """`request_path` of an event from ``source``."""
    if source in (EventSource.API_GATEWAY_HTTP, EventSource.FUNCTION_URL):
        path = event.get("rawPath") or event["requestContext"]["http"].get("path")
    else:
        path = event.get("path")
    return str(path or "")


def request_of(event: Mapping[str, Any], source: EventSource) -> CallbackRequest:
    """`event_to_request` of an event from ``source``."""
    return _TO_REQUEST[source](event)


def answer_to(
    response: CallbackResponse, event: Mapping[str, Any], source: EventSource
) -> dict[str, Any]:
    """`response_to_event` for an event from ``source``."""
    if source is EventSource.ALB:
        return response_to_alb_event(
            response, multi_value_headers=event.get("multiValueHeaders") is not None
        )
    return _TO_EVENT[source](response)


# --- the pieces ------------------------------------------------------------------------------


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise UnsupportedEvent("The event's body is not valid base64.") from None
    # surrogatepass: a lone surrogate becomes bytes no UTF-8 decoder takes (see the docstring).
    return str(body).encode("utf-8", "surrogatepass")


def _context_str(event: Mapping[str, Any], section: str, name: str) -> str | None:
    """``event["requestContext"][section][name]`` if it is a string, else ``None``."""
    context = event.get("requestContext")
    part = context.get(section) if isinstance(context, Mapping) else None
    value = part.get(name) if isinstance(part, Mapping) else None
    return value if isinstance(value, str) else None


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Lower-case names; several values of one header joined with ``", "`` (RFC 9110)."""
    headers: dict[str, str] = {}
    multi = event.get("multiValueHeaders")
    single = event.get("headers")
    if multi and single:
        # API Gateway sends both maps; when no header repeats they say the same thing, and the
        # single-value one is cheaper to read.
        for values in multi.values():
            if len(values or ()) > 1:
                break
        else:
            multi = None
    if multi:
        for name, values in multi.items():
            if values:
                add_header(headers, name, ", ".join(str(value) for value in values))
        return headers
    single = single or {}
    # The usual case in one pass: no None value and no two names that differ only in case
    # (then nothing is merged, and the result is what the loop below builds).
    headers = {name.lower(): str(value) for name, value in single.items() if value is not None}
    if len(headers) == len(single):
        return headers
    headers = {}
    for name, value in single.items():
        if value is not None:
            add_header(headers, name, str(value))
    return headers


def _query_pairs(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        for name, values in multi.items():
            for value in values or ():
                pairs.append((str(name), str(value)))
    else:
        for name, value in (event.get("queryStringParameters") or {}).items():
            if value is not None:
                pairs.append((str(name), str(value)))
    return pairs


#: Characters urlencode leaves as they are, and the "=" and "&" that join them (ASCII bytes).
_UNRESERVED_QUERY = (string.ascii_letters + string.digits + "_.~-=&").encode("ascii")


def _query(pairs: list[tuple[str, str]]) -> str | dict[str, str]:
    """The raw query string of decoded ``pairs`` (`_query_string`), or the pairs themselves.

    A name or value with a lone surrogate (a JSON escape in the event) has no URL encoding: the
    parameters go to the handler parsed, first value of each name, where its one rule for
    parameters that are not text refuses them (400), as for any parsed query.
    """
    if all(is_unicode_text(name) and is_unicode_text(value) for name, value in pairs):
        return _query_string(pairs)
    parsed: dict[str, str] = {}
    for name, value in pairs:
        parsed.setdefault(name, value)
    return parsed


def _query_string(pairs: list[tuple[str, str]]) -> str:
    """``urlencode(pairs)``, without its cost when nothing needs escaping (callback URLs).

    When no name or value holds "=" or "&", and the joined query holds nothing but unreserved
    characters besides those, no name or value needed escaping: the join is what urlencode
    would give. Checked with bytes.translate, which deletes the allowed bytes: much cheaper than
    a regex over a 900-character query.
    """
    for name, value in pairs:
        if "=" in name or "&" in name or "=" in value or "&" in value:
            return urlencode(pairs)
    query = "&".join(map("=".join, pairs))
    if query.isascii() and not query.encode("ascii").translate(None, _UNRESERVED_QUERY):
        return query
    return urlencode(pairs)


def _is_text(headers: Mapping[str, str]) -> bool:
    essence = media_type(header(headers, "content-type"))
    return (
        essence.startswith("text/") or essence in _TEXT_TYPES or essence.endswith(("+json", "+xml"))
    )


def _encode_body(response: CallbackResponse) -> tuple[str, bool]:
    """``(body, isBase64Encoded)``: text as is, anything else base64."""
    if not response.body:
        return "", False
    if _is_text(response.headers):
        try:
            return response.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(response.body).decode("ascii"), True


# --- API Gateway REST (payload format 1.0) ---------------------------------------------------


def api_gateway_rest_event_to_request(event: Mapping[str, Any]) -> CallbackRequest:
    """A request from an API Gateway REST proxy event (or an HTTP API one in payload 1.0).

    The query values are already decoded; they are re-encoded into a raw query string.
    """
    return CallbackRequest(
        method=str(event.get("httpMethod") or "GET").upper(),
        query=_query(_query_pairs(event)),
        headers=_headers(event),
        body=_body(event),
        source_ip=_context_str(event, "identity", "sourceIp"),
    )


def response_to_api_gateway_rest_event(response: CallbackResponse) -> dict[str, Any]:
    """The proxy integration answer: ``statusCode``, ``headers``, ``body``, ``isBase64Encoded``."""
    body, is_base64 = _encode_body(response)
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": body,
        "isBase64Encoded": is_base64,
    }


# --- API Gateway HTTP API (payload format 2.0) and function URLs -----------------------------


def api_gateway_http_event_to_request(event: Mapping[str, Any]) -> CallbackRequest:
    """A request from an HTTP API event in payload format 2.0.

    ``rawQueryString`` is used as is; ``cookies`` become a ``cookie`` header again.
    """
    raw_query = event.get("rawQueryString")
    query = str(raw_query) if raw_query is not None else _query(_query_pairs(event))
    headers = _headers(event)
    cookies = event.get("cookies")
    if cookies:
        headers["cookie"] = "; ".join(str(cookie) for cookie in cookies)
    return CallbackRequest(
        method=str(event["requestContext"]["http"].get("method") or "GET").upper(),
        query=query,
        headers=headers,
        body=_body(event),
        source_ip=_context_str(event, "http", "sourceIp"),
    )


def response_to_api_gateway_http_event(response: CallbackResponse) -> dict[str, Any]:
    """The payload 2.0 answer; a ``Set-Cookie`` header goes into ``cookies``."""
    body, is_base64 = _encode_body(response)
    headers = {
        name: value for name, value in response.headers.items() if name.lower() != "set-cookie"
    }
    result: dict[str, Any] = {
        "statusCode": response.status,
        "headers": headers,
        "body": body,
        "isBase64Encoded": is_base64,
    }
    cookies = [value for name, value in response.headers.items() if name.lower() == "set-cookie"]
    if cookies:
        result["cookies"] = cookies
    return result


def function_url_event_to_request(event: Mapping[str, Any]) -> CallbackRequest:
    """A request from a Lambda function URL event (the HTTP API 2.0 shape)."""
    return api_gateway_http_event_to_request(event)


def response_to_function_url_event(response: CallbackResponse) -> dict[str, Any]:
    """A function URL's answer (the HTTP API 2.0 shape)."""
    return response_to_api_gateway_http_event(response)


# --- ALB -------------------------------------------------------------------------------------


def alb_event_to_request(event: Mapping[str, Any]) -> CallbackRequest:
    """A request from an ALB target-group event, with or without multi-value headers.

    ALB passes query parameters as the client sent them, still URL-encoded: they are joined
    unchanged into the raw query string, which the handler decodes once.
    """
    query = "&".join(f"{name}={value}" for name, value in _query_pairs(event))
    headers = _headers(event)
    # ALB appends the client's address to X-Forwarded-For; the last entry is the one it saw.
    forwarded = headers.get("x-forwarded-for", "").rsplit(",", 1)[-1].strip()
    return CallbackRequest(
        method=str(event.get("httpMethod") or "GET").upper(),
        query=query,
        headers=headers,
        body=_body(event),
        source_ip=forwarded or None,
    )


def response_to_alb_event(
    response: CallbackResponse, *, multi_value_headers: bool = False
) -> dict[str, Any]:
    """The ALB answer, with ``statusDescription``.

    Args:
        response: the handler's answer.
        multi_value_headers: the target group has multi-value headers on (its events carry
            ``multiValueHeaders``); ALB then reads only ``multiValueHeaders`` from the answer.
    """
    body, is_base64 = _encode_body(response)
    result: dict[str, Any] = {
        "statusCode": response.status,
        "statusDescription": f"{response.status} {reason_phrase(response.status)}",
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if multi_value_headers:
        result["multiValueHeaders"] = {name: [value] for name, value in response.headers.items()}
    else:
        result["headers"] = dict(response.headers)
    return result


_TO_REQUEST = {
    EventSource.API_GATEWAY_REST: api_gateway_rest_event_to_request,
    EventSource.API_GATEWAY_HTTP: api_gateway_http_event_to_request,
    EventSource.FUNCTION_URL: function_url_event_to_request,
    EventSource.ALB: alb_event_to_request,
}
_TO_EVENT = {
    EventSource.API_GATEWAY_REST: response_to_api_gateway_rest_event,
    EventSource.API_GATEWAY_HTTP: response_to_api_gateway_http_event,
    EventSource.FUNCTION_URL: response_to_function_url_event,
}
