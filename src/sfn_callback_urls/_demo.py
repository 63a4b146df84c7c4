"""The blog post's approval e-mail, offline: moto, a local callback server and real clicks.

`Demo` runs the whole flow in this process, with no AWS account:

```python
with Demo(out_dir=Path("demo")) as demo:    # starts moto, the machine and the server
    print(demo.email_path, demo.urls["approve"])
    result = demo.wait(timeout=600)          # until someone clicks a link
    result.status, result.confirmation_text  # "SUCCEEDED", "Hello Ben, your task is complete"
```

It starts moto in-process with real state machine executions, runs the
`ApprovalMachine`, reads the task token from its
queue, mints "approve" and "reject" URLs with a throwaway `LocalKey`,
serves them with the WSGI app of a `CallbackHandler` on a free
loopback port, and writes the approval e-mail as an HTML file. moto is imported by
`Demo.start()`, never at import time: ``pip install 'sfn-callback-urls[demo]'``.

`run_demo()` is ``sfn-callback-urls demo``: the same flow with its steps printed to a terminal.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

from ._approval import ConfirmPage
from ._codec import Codec
from ._contract import CALLBACK_PATH
from ._email import ApprovalEmail, EmailTheme, approval_email
from ._features import Features
from ._models import Action, FailureAction, SuccessAction
from ._render import reason_phrase
from ._server import LocalServer, ServedRequest
from ._urls import Minter
from .adapters._wsgi import make_wsgi_app
from .errors import ConfigurationError
from .keys import LocalKey

if TYPE_CHECKING:
    from types import TracebackType

    from .testing._stepfunctions import ApprovalMachine

__all__ = [
    "DEMO_INSTALL_HINT",
    "Demo",
    "DemoResult",
    "demo_cause",
    "run_demo",
]

#: What to install when moto is missing.
DEMO_INSTALL_HINT: Final = "pip install 'sfn-callback-urls[demo]'"

#: The demo's AWS region (moto's; nothing leaves the process).
REGION: Final = "us-east-1"

#: What the demo's e-mail asks, and the details below it (`approval_email`).
TITLE: Final = "Approve {name}'s request?"
DETAILS: Final = (
    "A workflow started for {name} is waiting for your answer.\n"
    "Approve lets it finish; Reject stops it as rejected."
)

# Length of the task tokens real Step Functions hands out (moto's are 36-character uuids).
_REAL_TOKEN_BYTES: Final = 512  # 684 characters of standard base64, like real tokens
#: The API Gateway-shaped base URL of the benchmark: real-token lengths are quoted with it, so
#: the demo says the same number as the README (benchmarks/figures.py).
REAL_BASE_URL: Final = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"

# Environment variables that would send the demo's (or moto's own) boto3 clients elsewhere.
_ENV_REMOVED: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_ENV_SET: Final = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}


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
        out_dir: where the e-mail file goes (kept after the demo); by default a new temporary
            directory, removed by `stop()` since its links stop working with the demo.
        confirm_get: the link-scanner-safe mode: a GET shows a confirmation page whose button
            POSTs the same URL.
        expires_in: how long the links are valid.
        on_request: called after each request the callback server answers.

    Attributes (after `start()`):
        urls: the minted callback URLs by action name (``approve``, ``reject``).
        real_token_url_lengths: the length each URL would have with a real AWS task token and
            an API Gateway base URL (`REAL_BASE_URL`).
        email: the approval e-mail (`approval_email`): subject, HTML and text.
        email_path: the approval e-mail's HTML part, as a file (its text part is beside it,
            ``approval-email.txt``).
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
        self._temp_dir: Path | None = None
        self._on_request = on_request
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._machine: ApprovalMachine | None = None
        self._server: LocalServer | None = None
        self._sfn: Any = None
        self.urls: dict[str, str] = {}
        self.real_token_url_lengths: dict[str, int] = {}
        self.email: ApprovalEmail | None = None
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
        from .testing._stepfunctions import ApprovalMachine

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

            features = Features(confirm_get=self.confirm_get)
            handler = features.callback_handler(
                Codec(key := LocalKey.generate()), stepfunctions_client=self._sfn
            )
            self._server = LocalServer(make_wsgi_app(handler), on_request=self._on_request)
            self._server.start()
            self.server_url = self._server.url
            minter = Minter(Codec(key), base_url=self.server_url)
            actions = self._actions()
            features.check_mint(actions, output_parameters=False)
            response = minter.mint(token, actions, expires_in=self.expires_in)
            self.urls = dict(response.urls)
            real = Minter(Codec(key), base_url=REAL_BASE_URL).mint(
                _real_shaped_token(), actions, expires_in=self.expires_in
            )
            self.real_token_url_lengths = {name: len(url) for name, url in real.urls.items()}
            self.email = approval_email(
                response,
                title=TITLE.format(name=self.name),
                details=DETAILS.format(name=self.name),
                recipient_name=self.name,
                theme=EmailTheme(
                    product_name="sfn-callback-urls demo",
                    footer=f"Sent by the sfn-callback-urls demo. The links point at a local "
                    f"server ({self.server_url}) that runs until the demo ends.",
                ),
            )
            self.email_path = self._write_email(self.email)
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
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None
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
        # In confirm mode the confirm page says what the e-mail says: the same title and
        # details, sealed with each action (one text, checked by ConfirmPage's rules).
        confirm = (
            ConfirmPage(title=TITLE.format(name=self.name), details=DETAILS.format(name=self.name))
            if self.confirm_get
            else None
        )
        return [
            SuccessAction(name="approve", output={"name_in_output": self.name}, confirm=confirm),
            FailureAction(
                name="reject", error="rejected", cause=demo_cause(self.name), confirm=confirm
            ),
        ]

    def _write_email(self, email: ApprovalEmail) -> Path:
        out_dir = self._out_dir
        if out_dir is None:
            out_dir = self._temp_dir = Path(tempfile.mkdtemp(prefix="sfn-callback-urls-demo-"))
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "approval-email.html"
        path.write_text(email.html, encoding="utf-8")
        path.with_suffix(".txt").write_text(email.text, encoding="utf-8")
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


# --- in a terminal ---------------------------------------------------------------------------


class _Terminal:
    """Aligned, short steps; a tick and colours where the terminal can show them."""

    _LABEL_WIDTH: Final = 16

    def __init__(self, out: TextIO) -> None:
        self.out = out
        encoding = (getattr(out, "encoding", None) or "ascii").lower().replace("-", "")
        self.unicode = encoding in ("utf8", "utf16", "utf32")
        isatty = getattr(out, "isatty", None)
        self.color = bool(isatty and isatty()) and "NO_COLOR" not in os.environ
        self.ok = "✓" if self.unicode else "*"
        self.arrow = "→" if self.unicode else "->"
        self.bad = "✗" if self.unicode else "x"

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, label: str, text: str, *, mark: str | None = None, code: str = "32") -> None:
        glyph = self.paint(mark or self.ok, code)
        self.line(f"  {glyph} {self.paint(label.ljust(self._LABEL_WIDTH), '1')} {text}")

    def more(self, text: str) -> None:
        self.line(f"    {' ' * self._LABEL_WIDTH} {text}")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def run_demo(args: argparse.Namespace, out: TextIO) -> bool:
    """``sfn-callback-urls demo``: run the flow, printing each step; whether it ended as expected.

    ``args`` are the demo command's (``name``, ``out``, ``confirm``, ``open``, ``auto``,
    ``timeout``). Ctrl-C stops the demo (executions, server, moto) and is raised again.
    """
    term = _Terminal(out)

    def on_request(served: ServedRequest) -> None:
        label = served.action or "?"
        code = "32" if served.status < 400 else "31"
        term.step(
            "request",
            f"{served.method:<4} {label:<8} "
            f"{term.paint(f'{served.status} {reason_phrase(served.status)}', code)}",
            mark=term.arrow,
            code="36",
        )

    term.line(
        f"{term.paint('sfn-callback-urls demo', '1')}: the approval e-mail, offline "
        f"{term.dim('(moto in-process, no AWS account)')}"
    )
    term.line()
    demo = Demo(name=args.name, out_dir=args.out, confirm_get=args.confirm, on_request=on_request)
    try:
        demo.start()
        return _run(demo, args, term)
    except KeyboardInterrupt:
        term.line()
        term.step("interrupted", "stopping", mark=term.bad, code="33")
        raise
    finally:
        stopped = demo.stop()
        if stopped:
            term.step("cleaned up", f"stopped {len(stopped)} waiting execution(s)", code="33")


def _run(demo: Demo, args: argparse.Namespace, term: _Terminal) -> bool:
    execution_name = demo.execution_arn.rsplit(":", 1)[-1]
    term.step("execution", f"{execution_name} {term.dim('waits for its task token')}")
    term.step(
        "task token",
        f"read from the request queue {term.dim(f'({demo.token_length} chars in moto)')}",
    )
    mode = "confirm mode: a GET asks, a button POSTs" if demo.confirm_get else "a GET completes"
    term.step("callback server", f"{demo.server_url}{CALLBACK_PATH} {term.dim(f'({mode})')}")
    for index, (name, url) in enumerate(demo.urls.items()):
        real = demo.real_token_url_lengths[name]
        note = term.dim(f"({real} with a real 684-char token and an API Gateway base URL)")
        text = f"{name:<8} {len(url):>4} chars {note}"
        if index == 0:
            term.step("links minted", text)
        else:
            term.more(text)
    term.step("e-mail written", str(demo.email_path))
    term.line()
    if demo.email is not None:
        term.line(f"  Subject: {demo.email.subject}")
    for name, url in demo.urls.items():
        term.line(f"  {name.capitalize():<8} {url}")
    term.line()

    if args.open:
        opened = webbrowser.open(demo.email_path.resolve().as_uri())
        if not opened:
            term.step("browser", "could not open one: open the e-mail file yourself", mark="!")
    if args.auto:
        how = "GET, then the confirm button's POST" if demo.confirm_get else "GET"
        term.step("clicking", f"{args.auto} for you ({how})", mark=term.arrow, code="36")
        demo.click(args.auto)
    else:
        where = "in the browser" if args.open else f"in {demo.email_path.name} (or a link above)"
        term.line(f"  Click Approve or Reject {where}.")
        term.line(
            term.dim(f"  Waiting up to {args.timeout:g} s for a click; Ctrl-C stops the demo.")
        )
        term.line()
    try:
        result = demo.wait(timeout=args.timeout)
    except TimeoutError:
        term.step("no click", f"within {args.timeout:g} s", mark=term.bad, code="31")
        return False
    return _report(result, args.auto, args.name, term)


def _report(result: DemoResult, expected: str | None, name: str, term: _Terminal) -> bool:
    status_code = "32" if result.status == "SUCCEEDED" else "31"
    how = ""
    if result.answer == "reject":
        how = term.dim(" (its Catch took the 'rejected' failure on to SendConfirmation)")
    term.step("execution", term.paint(result.status, status_code) + how)
    if result.answer is not None:
        term.step("confirmation", f'"{result.confirmation_text}"')
        if result.answer == "approve":
            term.more(f"output {json.dumps(result.confirmation)}")
        else:
            term.more(f"error  {json.dumps(result.confirmation.get('Error'))}")
            if result.cause_dropped:
                cause = json.dumps(demo_cause(name))
                term.more(term.dim(f"cause  {cause} was sent: moto, the local emulator,"))
                term.more(term.dim("       drops it (AWS keeps it)"))
    else:
        term.step("confirmation", result.confirmation_text, mark=term.bad, code="31")
    # Interactive: either answer is what the person chose. --auto: the blog post's outcome.
    as_expected = result.answer is not None if expected is None else result.ended_as(expected, name)
    if expected is not None:
        if as_expected:
            term.step("as expected", f"{expected} ended the execution the blog post's way")
        else:
            term.step("unexpected", f"{expected} did not end as expected", mark=term.bad, code="31")
    term.line()
    return as_expected


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
