"""A WSGI app (PEP 3333, standard library only) around a callback handler.

```python
from wsgiref.simple_server import make_server
app = make_wsgi_app(CallbackHandler(codec))
make_server("127.0.0.1", 8000, app).serve_forever()
```

Any path ending in ``/respond`` goes to the handler; every other path is a 404 JSON answer.
The body is read by ``Content-Length`` (or to its end when the server says the input is
terminated) and never beyond ``max_body_size``: a larger one is refused with 413 unread.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._contract import MAX_BODY_SIZE
from .._handler import CallbackRequest, CallbackResponse
from .._render import reason_phrase
from ._common import (
    SupportsHandle,
    bad_request_response,
    body_too_large_response,
    content_length,
    is_callback_path,
    not_found_response,
    response_headers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["make_wsgi_app"]

_CHUNK_SIZE = 64 * 1024


class _BadRequest(Exception):
    def __init__(self, response: CallbackResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    stream: Any = environ.get("wsgi.input")
    try:
        announced = content_length(str(environ.get("CONTENT_LENGTH") or ""))
    except ValueError:
        raise _BadRequest(bad_request_response("The Content-Length header is invalid.")) from None
    if announced is None:
        if stream is None or not environ.get("wsgi.input_terminated"):
            return b""
        body = stream.read(limit + 1)  # the server ends the stream: read to its end, capped
        if len(body) > limit:
            raise _BadRequest(body_too_large_response(limit))
        return bytes(body)
    length = announced
    if length > limit:
        raise _BadRequest(body_too_large_response(limit))
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0 and stream is not None:
        chunk = stream.read(min(remaining, _CHUNK_SIZE))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    if remaining:
        raise _BadRequest(bad_request_response("The request body is shorter than announced."))
    return b"".join(chunks)


def _environ_to_request(environ: WSGIEnvironment, max_body_size: int) -> CallbackRequest:
    return CallbackRequest(
        method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
        query=str(environ.get("QUERY_STRING") or ""),
        headers=_headers(environ),
        body=_read_body(environ, max_body_size),
        source_ip=str(environ["REMOTE_ADDR"]) if environ.get("REMOTE_ADDR") else None,
    )


def make_wsgi_app(
    handler: SupportsHandle, *, max_body_size: int = MAX_BODY_SIZE
) -> WSGIApplication:
    """A WSGI application answering ``.../respond`` with ``handler``.

    Args:
        handler: a `CallbackHandler` (or anything with its
            ``handle``).
        max_body_size: the largest request body read; larger ones get 413.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not is_callback_path(str(environ.get("PATH_INFO") or "")):
            response = not_found_response()
        else:
            try:
                request = _environ_to_request(environ, max_body_size)
            except _BadRequest as error:
                response = error.response
            else:
                response = handler.handle(request)
        start_response(
            f"{response.status} {reason_phrase(response.status)}", response_headers(response)
        )
        return [response.body]

    return app
