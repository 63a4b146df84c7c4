"""The local server (``serve``, the demo): clients that go away or never speak print nothing.

Browsers open spare connections they may never use, and a person may close a tab mid-answer;
socketserver's default is a traceback on stderr for each, which is what ``serve``'s terminal
would show. Each test drives a real `LocalServer` on loopback with a raw socket.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
import urllib.request
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pytest

from sfn_callback_urls import _server
from sfn_callback_urls._server import LocalServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: Seconds a silent connection may stay open in these tests (30 in use).
IDLE = 0.3


def hello(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A WSGI app that answers every request."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """`LocalServer` serving ``hello``, with silent connections closed after IDLE seconds."""
    monkeypatch.setattr(_server._QuietRequestHandler, "timeout", IDLE)
    running = LocalServer(hello).start()
    try:
        yield running
    finally:
        running.stop()


def still_answers(server: LocalServer) -> None:
    """A normal request after the misbehaving client is answered."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{server.url}/", timeout=10) as response:
        assert response.read() == b"hello"


def test_a_silent_connection_is_closed_without_a_word(
    server: LocalServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A connection that never sends is closed after the idle timeout; nothing is printed."""
    with socket.create_connection((server.host, server.port), timeout=10) as spare:
        started = time.monotonic()
        assert spare.recv(1) == b""  # closed by the server, not by us
        assert time.monotonic() - started < 5
    still_answers(server)
    time.sleep(0.1)  # the closed connection's thread has finished its error handling
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""
    assert caplog.records == []


def test_a_client_that_resets_mid_request_prints_nothing(
    server: LocalServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Half a request line, then a reset (a cancelled click): no traceback, the server lives."""
    with socket.create_connection((server.host, server.port), timeout=10) as client:
        client.sendall(b"GET /respond?data=")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.2)
    still_answers(server)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert caplog.records == []


def test_any_other_failure_is_one_line_without_its_text(
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Serving a connection fails otherwise: one warning naming the error's type, nothing more."""

    def fails(self: object) -> None:
        raise ValueError("could quote the request: data=secret")

    monkeypatch.setattr(_server._QuietRequestHandler, "handle", fails)
    with caplog.at_level(logging.WARNING, logger="sfn_callback_urls.server"):
        with socket.create_connection((server.host, server.port), timeout=10) as client:
            client.sendall(b"GET /respond?data=secret HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(1) == b""  # the connection is closed
        time.sleep(0.2)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "secret" not in caplog.text
    said = [record.getMessage() for record in caplog.records]
    assert said == ["A request could not be served: ValueError."]
