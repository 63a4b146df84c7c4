"""A local HTTP server for a WSGI app: what ``sfn-callback-urls serve`` and the demo run.

`LocalServer` serves a WSGI app with `wsgiref`, one thread per request, on loopback by default.
It is for development and local emulators: plain HTTP, one process. It never logs request lines
(their query strings hold blobs), and a client that goes away or never sends a request (browsers
open spare connections) is no error: nothing is printed for it.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._contract import CALLBACK_PATH, QUERY_ACTION
from .errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["LocalServer", "ServedRequest"]

_LOGGER = logging.getLogger("sfn_callback_urls.server")


@dataclass(frozen=True)
class ServedRequest:
    """A request the local server answered: method, the URL's ``action`` label and the status.

    The query string (which holds the blob) is never kept.
    """

    method: str
    action: str | None
    status: int


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request: browsers open idle speculative connections that would block.

    A single-threaded server would sit on such a connection while the real request waits.
    """

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 makes Linux drop connections under concurrent
    # clicks, and clients retry a second later (benchmarks/load.py showed a 1 s p99).
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone or silent is no error; anything else is one line, never a traceback.

        socketserver prints a traceback to stderr for every exception while serving a
        connection: a spare connection timing out or a click cancelled mid-answer would fill
        ``serve``'s terminal with them. Only the exception's type is logged (its text could
        quote the request).
        """
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        _LOGGER.warning(
            "A request could not be served: %s.",
            type(error).__name__,
            extra={"event": "server_error", "error_type": type(error).__name__},
        )


class _QuietRequestHandler(WSGIRequestHandler):
    """wsgiref logs whole request lines, query strings (blobs) included: log nothing."""

    #: Seconds a connection may stay silent: a browser's spare connection is then closed and
    #: its thread ends, instead of both lasting as long as the browser keeps it open.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        return


class LocalServer:
    """A WSGI app on a local port, served by `wsgiref` (one thread per request).

    Args:
        app: the WSGI application.
        host: the address to listen on; loopback by default.
        port: the port; ``0`` picks a free one (see `port` once created).
        on_request: called after each request to a callback path (``.../respond``).

    Raises:
        ConfigurationError: the address cannot be listened on (in use, unknown host...).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: Callable[[ServedRequest], None] | None = None,
    ) -> None:
        server_class: type[WSGIServer] = _ThreadingWSGIServer
        if ":" in host:  # an IPv6 address
            server_class = type("_ThreadingWSGIServer6", (_ThreadingWSGIServer,), {})
            server_class.address_family = socket.AF_INET6
        observed = app if on_request is None else _observe(app, on_request)
        try:
            self._server = make_server(
                host,
                port,
                observed,
                server_class=server_class,
                handler_class=_QuietRequestHandler,
            )
        except (OSError, OverflowError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ConfigurationError(f"Cannot listen on {host}:{port}: {reason}.") from None
        self.host = host
        self.port: int = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> LocalServer:
        """Serve in a background (daemon) thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="sfn-callback-urls-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C), then close the socket."""
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


def _observe(app: WSGIApplication, on_request: Callable[[ServedRequest], None]) -> WSGIApplication:
    """Wrap ``app`` to report each callback request's method, action label and status."""

    def observed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        statuses: list[int] = []

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        body = app(environ, recording_start_response)
        if str(environ.get("PATH_INFO") or "").endswith(CALLBACK_PATH):
            query = parse_qs(str(environ.get("QUERY_STRING") or ""))
            action = query.get(QUERY_ACTION, [None])[0]
            method = str(environ.get("REQUEST_METHOD") or "GET")
            on_request(ServedRequest(method, action, statuses[-1] if statuses else 0))
        return body

    return observed
