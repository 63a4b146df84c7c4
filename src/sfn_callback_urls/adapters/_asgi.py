"""An ASGI 3 app (standard library only) around a callback handler.

```python
app = make_asgi_app(CallbackHandler(codec))   # uvicorn module:app, hypercorn, ...
```

Any path ending in ``/respond`` goes to the handler; every other path is a 404 JSON answer.
The body is read up to ``max_body_size`` (413 beyond). The handler is synchronous (it calls
Step Functions through boto3), so it runs in the default thread pool, never on the event loop:
`CallbackHandler.handle_async()` (a handler with only ``handle`` is run the same way).
Lifespan events are acknowledged; other scope types (websockets) are refused, as the ASGI
specification asks, by raising.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._contract import MAX_BODY_SIZE
from .._handler import CallbackRequest, CallbackResponse
from .._http_headers import add_header
from ._common import (
    SupportsHandle,
    bad_request_response,
    body_too_large_response,
    content_length,
    is_callback_path,
    not_found_response,
    response_headers,
)

__all__ = ["ASGIApp", "Receive", "Scope", "Send", "make_asgi_app"]

Scope = MutableMapping[str, Any]
"""The connection scope."""
Message = MutableMapping[str, Any]
"""An event received or sent."""
Receive = Callable[[], Awaitable[Message]]
"""Awaits the next event from the server."""
Send = Callable[[Message], Awaitable[None]]
"""Sends an event to the server."""
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application."""


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or ():
        add_header(headers, bytes(raw_name).decode("latin-1"), bytes(raw_value).decode("latin-1"))
    return headers


def _client_host(scope: Scope) -> str | None:
    client = scope.get("client")
    if isinstance(client, (list, tuple)) and client and isinstance(client[0], str):
        return client[0]
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | CallbackResponse | None:
    """The body; a 413 answer past ``limit``; ``None`` when the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if message["type"] != "http.request":
            continue
        chunk = bytes(message.get("body") or b"")
        size += len(chunk)
        if size > limit:
            return body_too_large_response(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send(send: Send, response: CallbackResponse) -> None:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response_headers(response)
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


def make_asgi_app(handler: SupportsHandle, *, max_body_size: int = MAX_BODY_SIZE) -> ASGIApp:
    """An ASGI 3 application answering ``.../respond`` with ``handler``.

    Args:
        handler: a `CallbackHandler` (or anything with its
            ``handle``); called in a worker thread.
        max_body_size: the largest request body read; larger ones get 413.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"Unsupported ASGI scope type {scope['type']!r}.")
        if not is_callback_path(str(scope.get("path") or "")):
            await _send(send, not_found_response())
            return
        headers = _headers(scope)
        try:
            length = content_length(headers.get("content-length"))
        except ValueError:
            await _send(send, bad_request_response("The Content-Length header is invalid."))
            return
        if length is not None and length > max_body_size:
            await _send(send, body_too_large_response(max_body_size))
            return
        body = await _read_body(receive, max_body_size)
        if body is None:
            return
        if isinstance(body, CallbackResponse):
            await _send(send, body)
            return
        request = CallbackRequest(
            method=str(scope.get("method") or "GET").upper(),
            query=bytes(scope.get("query_string") or b"").decode("latin-1"),
            headers=headers,
            body=body,
            source_ip=_client_host(scope),
        )
        handle_async = getattr(handler, "handle_async", None)
        if handle_async is not None:
            response = await handle_async(request)
        else:  # a handler with only `handle` (a fake): the same worker thread
            response = await asyncio.to_thread(handler.handle, request)
        await _send(send, response)

    return app
