"""The blog post's approval e-mail, offline: moto, a local callback server and real clicks.

`Demo` runs the whole flow in this process, with no AWS account::

    with Demo(out_dir=Path("demo")) as demo:    # starts moto, the machine and the server
        print(demo.email_path, demo.urls["approve"])
        result = demo.wait(timeout=600)          # until someone clicks a link
        result.status, result.confirmation_text  # "SUCCEEDED", "Hello Ben, your task is complete"

It starts moto in-process with real state machine executions, runs the
`ApprovalMachine`, reads the task token from its
queue, mints "approve" and "reject" URLs with a throwaway `LocalKey`,
serves them with the WSGI app of a `CallbackHandler` on a free
loopback port, and writes the approval e-mail as an HTML file. moto is imported by
`Demo.start()`, never at import time: ``pip install 'sfn-callback-urls[demo]'``.

`LocalServer` (a WSGI app served by `wsgiref` in a background thread) is also what
``sfn-callback-urls serve`` runs.
"""

from __future__ import annotations

import base64
import html
import json
import os
import socket
import socketserver
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .adapters.wsgi import make_wsgi_app
from .codec import Codec
from .errors import ConfigurationError
from .handler import CallbackHandler
from .keys import LocalKey
from .models import Action, FailureAction, SuccessAction
from .urls import CALLBACK_PATH, Minter

if TYPE_CHECKING:
    from types import TracebackType

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .testing.stepfunctions import ApprovalMachine

__all__ = [
    "DEMO_INSTALL_HINT",
    "Demo",
    "DemoResult",
    "LocalServer",
    "ServedRequest",
    "demo_cause",
    "render_email",
]

#: What to install when moto is missing.
DEMO_INSTALL_HINT: Final = "pip install 'sfn-callback-urls[demo]'"

#: The demo's AWS region (moto's; nothing leaves the process).
REGION: Final = "us-east-1"

#: The e-mail's subject line.
SUBJECT: Final = "Approval needed: please approve or reject"

# Length of the task tokens real Step Functions hands out (moto's are 36-character uuids).
_REAL_TOKEN_BYTES: Final = 513  # 684 characters of base64

# Environment variables that would send the demo's (or moto's own) boto3 clients elsewhere.
_ENV_REMOVED: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_ENV_SET: Final = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}


# --- a local WSGI server ---------------------------------------------------------------------


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


class _QuietRequestHandler(WSGIRequestHandler):
    """wsgiref logs whole request lines, query strings (blobs) included: log nothing."""

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
            action = query.get("action", [None])[0]
            method = str(environ.get("REQUEST_METHOD") or "GET")
            on_request(ServedRequest(method, action, statuses[-1] if statuses else 0))
        return body

    return observed


# --- the demo --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    """How the demo's execution ended.

    Attributes:
        status: the execution's final status (``SUCCEEDED`` for both answers: the machine
            catches a rejection).
        output: the execution's output (``{"name", "output"}``), parsed.
        confirmation: the confirmation message the machine sent (``$.output``): the approve
            action's output, or the rejection's ``{"Error", "Cause"}``; ``None`` if none came.
    """

    status: str
    output: Any
    confirmation: Any

    @property
    def answer(self) -> Literal["approve", "reject"] | None:
        """Which link completed the task, as the confirmation shows it."""
        if self.status != "SUCCEEDED" or not isinstance(self.confirmation, dict):
            return None
        if "Error" in self.confirmation:
            return "reject" if self.confirmation.get("Error") == "rejected" else None
        return "approve" if "name_in_output" in self.confirmation else None

    def ended_as(self, answer: Literal["approve", "reject"] | str, name: str) -> bool:
        """Whether the execution ended the way ``answer``'s link should end it.

        approve: ``SUCCEEDED`` with ``{"name_in_output": name}`` as the task's output;
        reject: ``SUCCEEDED`` through the machine's Catch, with ``Error == "rejected"``.
        """
        if self.status != "SUCCEEDED" or not isinstance(self.output, dict):
            return False
        task_output = self.output.get("output")
        if answer == "approve":
            return bool(task_output == {"name_in_output": name})
        if answer == "reject":
            return isinstance(task_output, dict) and task_output.get("Error") == "rejected"
        return False

    @property
    def confirmation_text(self) -> str:
        """The confirmation e-mail's one line, as the blog post's second e-mail says it."""
        if self.answer == "approve":
            return f"Hello {self.confirmation['name_in_output']}, your task is complete"
        if self.answer == "reject":
            cause = self.confirmation.get("Cause")
            return f"Your task was rejected: {cause if cause else '(cause dropped by moto)'}"
        return f"No confirmation: the execution ended {self.status}"

    @property
    def cause_dropped(self) -> bool:
        """Whether a rejection lacks its cause: moto drops ``SendTaskFailure``'s (AWS keeps it)."""
        return self.answer == "reject" and not self.confirmation.get("Cause")


class Demo:
    """The approval e-mail flow, offline; see the module docstring.

    Args:
        name: who is asked for approval.
        out_dir: where the e-mail file goes; a new temporary directory by default (kept
            after the demo, so the file can still be looked at).
        confirm_get: the link-scanner-safe mode: a GET shows a confirmation page whose button
            POSTs the same URL.
        expires_in: how long the links are valid.
        on_request: called after each request the callback server answers.

    Attributes (after `start()`):
        urls: the minted callback URLs by action name (``approve``, ``reject``).
        real_token_url_lengths: the length each URL would have with a real AWS task token.
        email_path: the approval e-mail (HTML).
        server_url: the callback server's base URL.
        execution_arn: the execution waiting for an answer.
        token_length: the length of moto's task token.
    """

    def __init__(
        self,
        *,
        name: str = "Ben",
        out_dir: Path | str | None = None,
        confirm_get: bool = False,
        expires_in: timedelta = timedelta(days=7),
        on_request: Callable[[ServedRequest], None] | None = None,
    ) -> None:
        self.name = name
        self.confirm_get = confirm_get
        self.expires_in = expires_in
        self._out_dir = None if out_dir is None else Path(out_dir)
        self._on_request = on_request
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._machine: ApprovalMachine | None = None
        self._server: LocalServer | None = None
        self._sfn: Any = None
        self.urls: dict[str, str] = {}
        self.real_token_url_lengths: dict[str, int] = {}
        self.email_path = Path()
        self.server_url = ""
        self.execution_arn = ""
        self.token_length = 0

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Demo:
        """Start moto, the execution and the callback server; mint the URLs; write the e-mail.

        Raises:
            ConfigurationError: moto is not installed, or no local port is free.
        """
        try:
            import boto3
            from moto import mock_aws
        except ImportError:
            raise ConfigurationError(f"The demo needs moto: {DEMO_INSTALL_HINT}") from None
        from .testing.stepfunctions import ApprovalMachine

        try:
            self._patch_env()
            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
            session = boto3.Session(region_name=REGION)
            self._sfn = session.client("stepfunctions")
            machine = ApprovalMachine(self._sfn, session.client("sqs"))
            self._machine = machine
            self.execution_arn = machine.start(name=self.name)
            token, _ = machine.wait_for_token(timeout=30)
            self.token_length = len(token)

            handler = CallbackHandler(
                Codec(key := LocalKey.generate()),
                stepfunctions_client=self._sfn,
                confirm_get=self.confirm_get,
            )
            self._server = LocalServer(make_wsgi_app(handler), on_request=self._on_request)
            self._server.start()
            self.server_url = self._server.url
            minter = Minter(Codec(key), base_url=self.server_url)
            actions = self._actions()
            response = minter.mint(token, actions, expires_in=self.expires_in)
            self.urls = dict(response.urls)
            real = minter.mint(_real_shaped_token(), actions, expires_in=self.expires_in)
            self.real_token_url_lengths = {name: len(url) for name, url in real.urls.items()}
            self.email_path = self._write_email(response.expiration)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[str]:
        """Stop running executions, the server and moto (idempotent); returns stopped ARNs."""
        stopped: list[str] = []
        try:
            if self._machine is not None:
                stopped = self._machine.stop_all()
                self._machine = None
        finally:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            self._restore_env()
        return stopped

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- during the demo -------------------------------------------------------------------

    def status(self) -> str:
        """The execution's current status (``RUNNING`` until a link is used)."""
        return str(self._sfn.describe_execution(executionArn=self.execution_arn)["status"])

    def wait(self, timeout: float = 600.0) -> DemoResult:
        """Wait until the execution ends (someone clicked); return how it ended.

        Raises:
            TimeoutError: it was still running after ``timeout`` seconds.
        """
        machine = self._running_machine()
        described = machine.wait_for_status(self.execution_arn, timeout=timeout)
        output = json.loads(described["output"]) if described.get("output") else None
        confirmation = None
        if described["status"] == "SUCCEEDED":
            try:
                confirmation = machine.confirmation(timeout=10)
            except TimeoutError:
                confirmation = None
        return DemoResult(status=described["status"], output=output, confirmation=confirmation)

    def click(self, action: str) -> int:
        """Open ``action``'s link as a person would, with urllib; returns the final status.

        In confirm mode the GET shows the confirmation page and the "button" is a POST.
        """
        url = self.urls[action]
        status = _http(url, "GET")
        if self.confirm_get and status == 200:
            status = _http(url, "POST")
        return status

    def _running_machine(self) -> ApprovalMachine:
        if self._machine is None:
            raise RuntimeError("The demo is not running: call start() first.")
        return self._machine

    # -- pieces ----------------------------------------------------------------------------

    def _actions(self) -> list[Action]:
        return [
            SuccessAction(name="approve", output={"name_in_output": self.name}),
            FailureAction(name="reject", error="rejected", cause=demo_cause(self.name)),
        ]

    def _write_email(self, expiration: Any) -> Path:
        out_dir = self._out_dir
        if out_dir is None:
            out_dir = Path(tempfile.mkdtemp(prefix="sfn-callback-urls-demo-"))
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "approval-email.html"
        expires = "" if expiration is None else expiration.strftime("%d %B %Y, %H:%M UTC")
        path.write_text(
            render_email(
                name=self.name,
                approve_url=self.urls["approve"],
                reject_url=self.urls["reject"],
                expires=expires,
                server_url=self.server_url,
            ),
            encoding="utf-8",
        )
        return path

    def _patch_env(self) -> None:
        """Keep the demo (and moto's own clients) offline whatever the shell configures."""
        names = (*_ENV_REMOVED, *_ENV_SET)
        self._saved_env = {name: os.environ.get(name) for name in names}
        for name in _ENV_REMOVED:
            os.environ.pop(name, None)
        os.environ.update(_ENV_SET)

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}


def demo_cause(name: str) -> str:
    """The cause the reject link sends (moto drops it; AWS shows it in the confirmation)."""
    return f"{name} rejected the request"


def _http(url: str, method: str) -> int:
    """The status of one request to the local server (JSON answers; errors are statuses)."""
    if not url.startswith("http://"):
        raise ValueError("The demo only opens its own http:// links.")
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 - checked above
    request.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our http URL
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _real_shaped_token() -> str:
    """A synthetic task token of the real shape: 684 characters of standard base64."""
    return base64.b64encode(os.urandom(_REAL_TOKEN_BYTES)).decode("ascii")


# --- the e-mail ------------------------------------------------------------------------------

_FONT: Final = (
    "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif"
)
_BUTTON: Final = (
    "display:inline-block;padding:12px 28px;border-radius:8px;font-weight:600;"
    "font-size:16px;text-decoration:none;color:#ffffff;background:{color}"
)

_EMAIL: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{subject}</title>
</head>
<body style="margin:0;padding:32px 12px;background:#eef1f5;font-family:{font};color:#1f2328">
<div style="max-width:560px;margin:0 auto">
<p style="margin:0 0 10px 4px;font-size:13px;color:#57606a">
<b>From:</b> Approval workflow &lt;approvals@example.com&gt; &nbsp;
<b>To:</b> {name} &lt;{mailbox}@example.com&gt;<br>
<b>Subject:</b> {subject}</p>
<div style="background:#ffffff;border-radius:12px;overflow:hidden;
box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)">
<div style="background:#232f3e;color:#ffffff;padding:14px 28px;font-size:14px">
<b style="color:#ff9900">&#9632;</b>&nbsp; Step Functions &middot; approval request</div>
<div style="padding:28px 28px 24px">
<p style="margin:0 0 12px;font-size:18px"><b>Hello {name},</b></p>
<p style="margin:0 0 24px;font-size:16px;line-height:1.5">please approve or reject this
request. One click records your answer and lets the workflow continue.</p>
<p style="margin:0 0 24px">
<a id="approve" href="{approve}" style="{approve_style}">&#10003;&nbsp; Approve</a>
&nbsp;&nbsp;
<a id="reject" href="{reject}" style="{reject_style}">&#10007;&nbsp; Reject</a>
</p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#57606a">{expires}Each link carries
the task, encrypted: nothing about this request is stored on a server.</p>
</div>
</div>
<p style="margin:12px 4px 0;font-size:12px;line-height:1.5;color:#8c959f">Sent by the
sfn-callback-urls demo. The links point at a local callback server ({server}) that runs until
the demo ends.</p>
</div>
</body>
</html>
"""


def render_email(
    *, name: str, approve_url: str, reject_url: str, expires: str = "", server_url: str = ""
) -> str:
    """The approval e-mail: a small self-contained HTML page with two button links."""
    e = html.escape
    mailbox = "".join(c for c in name.lower() if c.isalnum()) or "someone"
    return _EMAIL.format(
        subject=e(SUBJECT),
        font=_FONT,
        name=e(name),
        mailbox=e(mailbox),
        approve=e(approve_url),
        reject=e(reject_url),
        approve_style=_BUTTON.format(color="#1a7f37"),
        reject_style=_BUTTON.format(color="#cf222e"),
        expires=f"The links expire on {e(expires)}. " if expires else "",
        server=e(server_url) if server_url else "127.0.0.1",
    )
