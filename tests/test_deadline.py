"""A click never hangs: AWS calls fit the click's time budget, then a 503 with Retry-After.

Step Functions and KMS are replaced by loopback endpoints that misbehave as AWS can: one accepts
connections and never answers, one answers every call with ``ThrottlingException``. Clicks go
through the ready Lambda handler (with and without a Lambda context) and a WSGI server; the link
then still completes the real moto execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from conftest import MotoClients
from helpers import APP_BASE_URL, Answer, event_for, serve_wsgi  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    KmsEnvelopeKey,
    LocalKey,
    Minter,
    SuccessAction,
)
from sfn_callback_urls._complete import reset_default_client
from sfn_callback_urls._deadline import CONNECT_TIMEOUT, DEFAULT_BUDGET, LAMBDA_MARGIN, READ_TIMEOUT
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app
from sfn_callback_urls.aws_lambda import get_app, process_callback_handler, reset_app
from sfn_callback_urls.errors import ConfigurationError
from sfn_callback_urls.testing import ApprovalMachine

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- misbehaving endpoints ---------------------------------------------------------------------


@contextlib.contextmanager
def silent_endpoint(accepted: list[socket.socket] | None = None) -> Iterator[str]:
    """An endpoint on loopback that accepts connections (into ``accepted``), never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = [] if accepted is None else accepted

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        server.close()
        for connection in accepted:
            connection.close()
        thread.join(5)


@dataclass
class Throttler:
    """What the throttling endpoint saw."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def throttling_endpoint() -> Iterator[Throttler]:
    """An AWS JSON endpoint on loopback that answers every call with ``ThrottlingException``."""
    seen = Throttler(url="")

    class Throttle(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.requests.append(str(self.headers.get("x-amz-target")))
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            self.send_response(400)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    seen.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield seen
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@contextlib.contextmanager
def misbehaving(kind: str) -> Iterator[tuple[str, list[Any]]]:
    """The endpoint of ``kind`` (silent or throttling), and the attempts it saw."""
    if kind == "silent":
        accepted: list[socket.socket] = []
        with silent_endpoint(accepted) as url:
            yield url, accepted
    else:
        with throttling_endpoint() as throttler:
            yield throttler.url, throttler.requests


class FakeLambdaContext:
    """A Lambda context whose remaining time runs down with the wall clock."""

    def __init__(self, remaining_ms: int) -> None:
        self._ends = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until Lambda would stop the function."""
        return int((self._ends - time.monotonic()) * 1000)


# --- helpers -----------------------------------------------------------------------------------


def mint_approve(machine: ApprovalMachine) -> tuple[str, str]:
    """Start an execution; the ready app's approve URL for it, and the execution's ARN."""
    execution_arn = machine.start("Ben")
    token, _ = machine.wait_for_token()
    response = get_app().create_urls(
        {"token": token, "actions": [{"name": "approve", "type": "success", "output": {}}]}
    )
    return response.urls["approve"], execution_arn


def lambda_headers(answer: dict[str, Any]) -> dict[str, str]:
    """The headers of a Lambda HTTP answer, names in lower case."""
    return {name.lower(): value for name, value in (answer.get("headers") or {}).items()}


def fetch(url: str) -> Answer:
    """GET ``url`` with urllib; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - loopback
    try:
        with OPENER.open(request, timeout=60) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers.items()), error.read())


def point_sfn_at(app_env: pytest.MonkeyPatch, url: str | None) -> None:
    """Send the ready app's Step Functions calls to ``url`` (``None``: moto again)."""
    if url is None:
        app_env.delenv("AWS_ENDPOINT_URL_SFN")
    else:
        app_env.setenv("AWS_ENDPOINT_URL_SFN", url)
    reset_default_client()


def click_still_works(
    app_env: pytest.MonkeyPatch, machine: ApprovalMachine, url: str, execution_arn: str
) -> None:
    """With Step Functions back, the same link completes the execution."""
    point_sfn_at(app_env, None)
    answer = process_callback_handler(event_for(url), FakeLambdaContext(10_000))
    assert answer["statusCode"] == 200
    assert machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


# --- the ready Lambda handler ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["silent", "throttling"])
def test_ready_lambda_answers_503_inside_the_remaining_time(
    kind: str, app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """A silent or throttling Step Functions: our 503 + Retry-After in the Lambda's time.

    The link then works once Step Functions is back.
    """
    url, execution_arn = mint_approve(approval_machine)
    with misbehaving(kind) as (endpoint, _):
        point_sfn_at(app_env, endpoint)
        context = FakeLambdaContext(5_000)
        answer = process_callback_handler(event_for(url), context)
        left = context.get_remaining_time_in_millis()
    assert answer["statusCode"] == 503
    assert lambda_headers(answer)["retry-after"] == "10"
    assert json.loads(answer["body"])["error"] == "StepFunctionsUnavailable"
    assert left > 0, f"the click outlived the Lambda ({left} ms left)"
    click_still_works(app_env, approval_machine, url, execution_arn)


def test_a_powertools_route_answers_503_inside_the_lambdas_remaining_time(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """powertools_response hands the resolver's Lambda context on: 503 before Lambda's timeout.

    With 3 s left, a throttling Step Functions gets retries for 2 s, not the 10 s budget.
    """
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from sfn_callback_urls.adapters import powertools_response

    url, execution_arn = mint_approve(approval_machine)
    app = APIGatewayRestResolver()
    handler = get_app().callback_handler

    @app.route("/respond", method=["GET", "HEAD", "POST"])
    def respond() -> Any:
        return powertools_response(handler, app.current_event, app.lambda_context)

    with misbehaving("throttling") as (endpoint, _):
        point_sfn_at(app_env, endpoint)
        context = FakeLambdaContext(3_000)
        answer = app.resolve(event_for(url), context)
        left = context.get_remaining_time_in_millis()
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"] == "StepFunctionsUnavailable"
    assert left > 0, f"the click outlived the Lambda ({left} ms left)"
    click_still_works(app_env, approval_machine, url, execution_arn)


@pytest.mark.parametrize("kind", ["silent", "throttling"])
def test_ready_lambda_without_a_context_answers_503_within_the_default_budget(
    kind: str, app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """Without a Lambda context the click's budget is 10 s: the 503 comes within it."""
    url, execution_arn = mint_approve(approval_machine)
    with misbehaving(kind) as (endpoint, attempts):
        point_sfn_at(app_env, endpoint)
        started = time.monotonic()
        answer = process_callback_handler(event_for(url), None)
        elapsed = time.monotonic() - started
    assert len(attempts) >= 2, "botocore retried within the budget"
    assert answer["statusCode"] == 503
    assert lambda_headers(answer)["retry-after"] == "10"
    assert elapsed <= DEFAULT_BUDGET
    click_still_works(app_env, approval_machine, url, execution_arn)


def test_a_lambda_out_of_time_sends_nothing(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """With less than the margin left, no call is attempted: an immediate 503, no request."""
    url, _ = mint_approve(approval_machine)
    with throttling_endpoint() as throttler:
        point_sfn_at(app_env, throttler.url)
        answer = process_callback_handler(event_for(url), FakeLambdaContext(500))
    assert answer["statusCode"] == 503
    assert lambda_headers(answer)["retry-after"] == "10"
    assert throttler.requests == []


def test_the_budget_comes_from_the_environment(app_env: pytest.MonkeyPatch) -> None:
    """SFN_CALLBACK_URLS_BUDGET sets the ready app's budget; a bad value is a named error."""
    app_env.setenv("SFN_CALLBACK_URLS_BUDGET", "4.5")
    reset_app()
    assert get_app().callback_handler.budget == 4.5
    app_env.setenv("SFN_CALLBACK_URLS_BUDGET", "soon")
    reset_app()
    answer = process_callback_handler(event_for(f"{APP_BASE_URL}/respond?data=x"), None)
    assert answer["statusCode"] == 500
    assert "SFN_CALLBACK_URLS_BUDGET" in json.loads(answer["body"])["message"]


# --- a WSGI server -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["silent", "throttling"])
def test_wsgi_server_answers_503_within_the_default_budget(
    kind: str, app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """Through a WSGI server (no Lambda context), the 503 with Retry-After comes within 10 s."""
    url, _ = mint_approve(approval_machine)
    query = url.split("?", 1)[1]
    with misbehaving(kind) as (endpoint, _):
        point_sfn_at(app_env, endpoint)
        app = make_wsgi_app(get_app().callback_handler)
        with serve_wsgi(app) as (host, port):
            started = time.monotonic()
            answer = fetch(f"http://{host}:{port}/respond?{query}")
            elapsed = time.monotonic() - started
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "10"
    assert answer.json()["error"] == "StepFunctionsUnavailable"
    assert elapsed <= DEFAULT_BUDGET


# --- KMS on the click's path -------------------------------------------------------------------


def test_a_silent_kms_is_a_503_within_the_budget(
    moto_sfn: MotoClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a KMS-sealed blob obeys the budget too: KeyUnavailable, 503, Retry-After."""
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["Arn"]
    url = (
        Minter(Codec(KmsEnvelopeKey(key_id, client=kms)), base_url="https://example.com")
        .mint("token", [SuccessAction(name="approve", output={})])
        .urls["approve"]
    )
    with silent_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", endpoint)
        # A cold handler: its backend builds its own client, so it must call KMS.
        handler = CallbackHandler(Codec(KmsEnvelopeKey(key_id)), budget=4, complete=print)
        started = time.monotonic()
        answer = handler.handle(
            CallbackRequest("GET", url.split("?", 1)[1], {"accept": "application/json"})
        )
        elapsed = time.monotonic() - started
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "10"
    assert json.loads(answer.body)["error"] == "KeyUnavailable"
    assert elapsed <= 4 + READ_TIMEOUT  # the first attempt always runs; its timeout bounds it


# --- the template ------------------------------------------------------------------------------


def test_the_template_timeout_leaves_room_for_the_budget() -> None:
    """The template's callback Timeout exceeds its budget plus the margin (never a bare 502).

    And the budget fits one attempt's timeouts.
    """
    from test_examples import EXAMPLES, functions, read_template

    template = read_template(EXAMPLES / "template.yaml")
    globals_ = template["Globals"]["Function"]
    budget = float(
        globals_["Environment"]["Variables"].get("SFN_CALLBACK_URLS_BUDGET", DEFAULT_BUDGET)
    )
    callbacks = [
        resource["Properties"]
        for resource in functions(template).values()
        if resource["Properties"]["Handler"].endswith("process_callback_handler")
    ]
    assert callbacks
    for properties in callbacks:
        timeout = properties.get("Timeout", globals_["Timeout"])
        assert budget + LAMBDA_MARGIN <= timeout
        assert budget >= CONNECT_TIMEOUT + READ_TIMEOUT
        assert timeout < 29  # API Gateway's integration timeout


# --- async -------------------------------------------------------------------------------------


def test_handle_async_leaves_the_event_loop_free() -> None:
    """While Step Functions is slow, handle_async() lets another coroutine run.

    The completion waits for an event only that coroutine sets: handle() would deadlock here.
    """
    codec = Codec(LocalKey.generate())
    url = (
        Minter(codec, base_url="https://x.example")
        .mint("t", [SuccessAction(name="ok", output={})])
        .urls["ok"]
    )
    released = threading.Event()
    waited: list[bool] = []

    def slow_step_functions(completion: object) -> None:
        waited.append(released.wait(timeout=10))

    handler = CallbackHandler(codec, complete=slow_step_functions)

    async def other_coroutine() -> None:
        await asyncio.sleep(0.05)
        released.set()

    async def main() -> int:
        request = CallbackRequest("GET", url.split("?", 1)[1])
        answer, _ = await asyncio.gather(handler.handle_async(request), other_coroutine())
        return answer.status

    assert asyncio.run(main()) == 200
    assert waited == [True]


def test_the_asgi_app_uses_handle_async() -> None:
    """make_asgi_app awaits the handler's handle_async (which carries the Lambda-free budget)."""
    calls: list[str] = []

    class Handler:
        def handle(self, request: CallbackRequest) -> Any:
            raise AssertionError("the event loop must not call handle()")

        async def handle_async(self, request: CallbackRequest) -> Any:
            calls.append(request.method)
            return CallbackHandler(Codec(LocalKey.generate())).handle(request)

    app = make_asgi_app(Handler())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/respond",
        "query_string": b"",
        "headers": [],
    }
    asyncio.run(app(scope, receive, send))
    assert calls == ["GET"]
    assert sent[0]["status"] == 400


def test_the_503_page_for_a_person_has_retry_after_too(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """A browser (Accept: text/html) gets our HTML 503 page, with Retry-After as well."""
    url, _ = mint_approve(approval_machine)
    with throttling_endpoint() as throttler:
        point_sfn_at(app_env, throttler.url)
        event = event_for(url, headers={"accept": "text/html"})
        answer = process_callback_handler(event, FakeLambdaContext(500))
    assert answer["statusCode"] == 503
    headers = lambda_headers(answer)
    assert headers["retry-after"] == "10"
    assert headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("budget", [0, -1, float("nan"), True])
def test_a_budget_that_is_not_a_positive_number_is_refused(budget: float) -> None:
    """CallbackHandler(budget=...) takes a positive number of seconds, nothing else."""
    with pytest.raises(ConfigurationError, match="budget"):
        CallbackHandler(Codec(LocalKey.generate()), budget=budget)
