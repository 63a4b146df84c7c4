"""Framework adapters: HTTP requests in, `CallbackRequest` out.

Each adapter only translates; every decision is the handler's.

- `.aws_lambda`: API Gateway REST (v1) and HTTP API (v2) events, Lambda function URLs and
  ALB target-group events, with `event_to_request()` / `response_to_event()` detecting
  the source, and one pair of functions per source.
- `.wsgi`: `make_wsgi_app()` (PEP 3333, standard library only).
- `.asgi`: `make_asgi_app()` (ASGI 3, standard library only).

The WSGI and ASGI apps answer any path ending in ``/respond`` with the handler, and every other
path with a 404 JSON body ``{"error": "NotFound", "message": ...}``.

This package imports its submodules on first use, so a Lambda function pays for neither
``asyncio`` nor ``wsgiref``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import PayloadTooLarge, RequestError, SfnCallbackUrlsError
from ..handler import CallbackRequest, CallbackResponse
from ..render import render_json
from ..urls import CALLBACK_PATH

if TYPE_CHECKING:
    from .asgi import make_asgi_app
    from .aws_lambda import EventSource, event_to_request, response_to_event
    from .wsgi import make_wsgi_app

__all__ = [
    "JSON_CONTENT_TYPE",
    "MAX_BODY_SIZE",
    "EventSource",
    "SupportsHandle",
    "bad_request_response",
    "body_too_large_response",
    "error_response",
    "event_to_request",
    "is_callback_path",
    "make_asgi_app",
    "make_wsgi_app",
    "not_found_response",
    "reason_phrase",
    "response_to_event",
]

#: Largest request body the WSGI and ASGI apps read; larger ones get 413 unread. A POST body
#: becomes at most Step Functions' 256 KiB of task output, so this leaves room for JSONPath.
MAX_BODY_SIZE = 512 * 1024
#: The content type of every JSON answer the adapters make themselves.
JSON_CONTENT_TYPE = "application/json"

_LAZY = {
    "EventSource": "aws_lambda",
    "event_to_request": "aws_lambda",
    "response_to_event": "aws_lambda",
    "make_wsgi_app": "wsgi",
    "make_asgi_app": "asgi",
}


class SupportsHandle(Protocol):
    """What the adapters call: a `CallbackHandler` or a fake."""

    def handle(self, request: CallbackRequest) -> CallbackResponse:
        """Answer one request; never raises."""
        ...


def is_callback_path(path: str) -> bool:
    """Whether ``path`` is the callback endpoint: any path ending in ``/respond``."""
    return path.endswith(CALLBACK_PATH)


def _json_response(status: int, body: Mapping[str, Any]) -> CallbackResponse:
    # Built by the render module, like every answer: same security headers everywhere.
    return render_json(status, body)


def error_response(error: SfnCallbackUrlsError) -> CallbackResponse:
    """The contract's JSON error answer ``{"error", "message"}`` with the error's status."""
    return _json_response(error.status, error.to_dict())


def not_found_response() -> CallbackResponse:
    """404 ``{"error": "NotFound", ...}`` for any path that is not the callback endpoint."""
    return _json_response(
        HTTPStatus.NOT_FOUND,
        {"error": "NotFound", "message": f"Not found; callback URLs end in {CALLBACK_PATH}."},
    )


def body_too_large_response(limit: int) -> CallbackResponse:
    """413 ``PayloadTooLarge`` for a body over ``limit`` bytes."""
    return error_response(PayloadTooLarge(f"The request body is larger than {limit} bytes."))


def bad_request_response(message: str) -> CallbackResponse:
    """400 for an HTTP request malformed below the handler (e.g. a bad ``Content-Length``)."""
    return error_response(RequestError(message))


#: More digits than this announce more than any body limit (and int() refuses > 4300 digits).
_MAX_LENGTH_DIGITS = 18
_TOO_LARGE = 1_000_000_000_000_000_000  # 10**18


def _content_length(value: str | None) -> int | None:
    """The length a ``Content-Length`` value announces; ``None`` when absent or empty.

    RFC 9110: one or more ASCII digits, with optional spaces or tabs around them. Anything else
    (``+5``, ``-1``, ``5, 5``, ``0x10``, ``1_0``, Unicode digits such as ``²``, which
    ``str.isdigit()`` accepts and ``int()`` refuses) raises ``ValueError``. A number longer
    than 18 digits is returned as ``10**18``: larger than any limit, so it gets a 413.
    """
    text = (value or "").strip(" \t")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError("Content-Length is not a number")
    if len(text) > _MAX_LENGTH_DIGITS:
        return _TOO_LARGE
    return int(text)


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status (``"OK"``), or ``"Unknown"``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
