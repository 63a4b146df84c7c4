"""What the WSGI, ASGI and Lambda adapters share: the callback path and their own answers.

Every answer is built by the render module, so the adapters' 404, 413 and 400 carry the same
security headers as the handler's.
"""

from __future__ import annotations

from typing import Protocol

from .._contract import CALLBACK_PATH
from .._handler import CallbackRequest, CallbackResponse
from .._http_headers import header
from .._render import JSON, render_error
from ..errors import NotFound, PayloadTooLarge, RequestError

__all__ = [
    "SupportsHandle",
    "bad_request_response",
    "body_too_large_response",
    "content_length",
    "is_callback_path",
    "not_found_response",
    "response_headers",
]


class SupportsHandle(Protocol):
    """What the adapters call: a `CallbackHandler` or a fake."""

    def handle(self, request: CallbackRequest) -> CallbackResponse:
        """Answer one request; never raises."""
        ...


def is_callback_path(path: str) -> bool:
    """Whether ``path`` is the callback endpoint: any path ending in ``/respond``."""
    return path.endswith(CALLBACK_PATH)


def not_found_response() -> CallbackResponse:
    """404 ``{"error": "NotFound", ...}`` for any path that is not the callback endpoint."""
    return render_error(NotFound(), JSON)


def body_too_large_response(limit: int) -> CallbackResponse:
    """413 ``PayloadTooLarge`` for a body over ``limit`` bytes."""
    return render_error(PayloadTooLarge(f"The request body is larger than {limit} bytes."), JSON)


def bad_request_response(message: str) -> CallbackResponse:
    """400 for an HTTP request malformed below the handler (e.g. a bad ``Content-Length``)."""
    return render_error(RequestError(message), JSON)


def response_headers(response: CallbackResponse) -> list[tuple[str, str]]:
    """The answer's headers as a server sends them, with a ``Content-Length`` when it has none."""
    headers = list(response.headers.items())
    if header(response.headers, "content-length") is None:
        headers.append(("Content-Length", str(len(response.body))))
    return headers


#: More digits than this announce more than any body limit (and int() refuses > 4300 digits).
_MAX_LENGTH_DIGITS = 18
_TOO_LARGE = 1_000_000_000_000_000_000  # 10**18


def content_length(value: str | None) -> int | None:
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
