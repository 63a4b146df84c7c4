"""A moto server on loopback that runs Step Functions executions, for end-to-end local tests.

A plain ``moto_server`` accepts ``StartExecution`` and then never runs the state machine:
executions only run after ``POST /moto-api/config`` with
``{"stepfunctions": {"execute_state_machine": true}}``. `moto_server()` starts one that does;
`configure_moto_server()` switches a server already running (``moto_server -p 5000``).
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Final

__all__ = ["EXECUTE_STATE_MACHINES", "configure_moto_server", "moto_server"]

EXECUTE_STATE_MACHINES: Final = {"stepfunctions": {"execute_state_machine": True}}
"""The moto configuration under which state machine executions really run."""

_INSTALL_HINT: Final = "pip install 'moto[server,stepfunctions,sqs]'"

# Loopback only: no proxy from the environment may stand between us and the server.
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def configure_moto_server(endpoint_url: str, *, timeout: float = 10.0) -> None:
    """Make a running moto server run state machine executions (``POST /moto-api/config``).

    Args:
        endpoint_url: the server, e.g. ``http://127.0.0.1:5000``.
        timeout: seconds to wait for its answer.

    Raises:
        OSError: the server cannot be reached, or refused the configuration.
    """
    request = urllib.request.Request(  # noqa: S310 - a URL the caller chose, http(s) only
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        data=json.dumps(EXECUTE_STATE_MACHINES).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if not request.full_url.startswith(("http://", "https://")):
        raise ValueError("endpoint_url must be an http:// or https:// URL.")
    with _OPENER.open(request, timeout=timeout) as response:
        response.read()


@contextlib.contextmanager
def moto_server(*, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run a moto server in a thread that really runs executions; yields its endpoint URL.

    Point boto3 at it with ``endpoint_url=`` or ``AWS_ENDPOINT_URL`` (and any credentials and
    region). ``MOTO_PORT`` is set to its port while it runs, unless already set.

    Args:
        host: the address to listen on (loopback by default).
        port: the port; ``0`` picks a free one.

    Raises:
        ImportError: moto's server is not installed (the message says what to install).
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # moto, or its server's Flask, is missing
        raise ImportError(f"moto_server() needs moto's server: {_INSTALL_HINT}") from error

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    set_port = "MOTO_PORT" not in os.environ
    if set_port:
        os.environ["MOTO_PORT"] = str(bound_port)
    try:
        url = f"http://{bound_host}:{bound_port}"
        configure_moto_server(url)
        yield url
    finally:
        server.stop()
        if set_port:
            os.environ.pop("MOTO_PORT", None)
