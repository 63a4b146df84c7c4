"""Fault injection at the client seams, through the whole `CallbackHandler`.

Every test clicks a real callback URL for a real moto execution (the approval machine) while the
Step Functions or KMS client misbehaves, then checks four things: the answer is a clean error with
a stable code and status (JSON ``{"error", "message"}``, plus ``correlation_id`` on 5xx), Step
Functions never saw the completion twice (calls are counted per task token), nothing secret leaks,
and once the fault clears the *same* URL completes the execution: a failure before Step Functions
accepted the call does not burn the link.

Faults are injected by `Faults`, a ``before-send`` hook on real boto3 clients registered ahead of
moto's: it answers an attempt with an AWS error (or raises botocore's network error, or a crash)
instead of sending it, below botocore's retry loop, so the clients' real retry configuration
decides what is retried. Attempts that are not faulted go on to moto. Backoff sleeps are zeroed
(`_no_backoff`); retry *decisions* stay botocore's.

Moto does not enforce KMS ``DisableKey`` or ``ScheduleKeyDeletion`` (DESIGN.md), so a disabled,
pending-deletion or deleted key is injected at the KMS client seam as the error AWS answers
(``DisabledException``, ``KMSInvalidStateException``, ``NotFoundException``).
"""

from __future__ import annotations

import io
import json
import logging
import math
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.retries.standard import ExponentialBackoff

from helpers import (  # tests/ is on sys.path
    KMS_KINDS,
    REGION,
    FakeClock,
    KmsKey,
    blob_of,
    callback_records,
    key_header_of,
    kms_backend,
    new_kms_key,
)
from sfn_callback_urls._codec import Codec
from sfn_callback_urls._complete import Completion, default_client
from sfn_callback_urls._handler import CallbackHandler, CallbackRequest
from sfn_callback_urls._models import SuccessAction
from sfn_callback_urls._render import CallbackResponse
from sfn_callback_urls._urls import Minter
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

BASE_URL = "https://callbacks.example.com/prod"
APPROVE = SuccessAction(name="approve", output={"approved": True})
#: Where a faulted attempt is pointed: moto answers only URLs it knows, so it never sees it.
NOWHERE = "https://fault-injection.invalid/"
#: Attempts the library's default Step Functions client makes: 1 + 5 standard-mode retries.
SFN_ATTEMPTS = 6
#: Attempts botocore's standard retry mode makes by default (the library's KMS clients).
KMS_ATTEMPTS = 3
MAX_AGE_SECONDS = 60.0


# --- fault injection --------------------------------------------------------------------------


class _Body(io.BytesIO):
    """A raw HTTP body as botocore reads it."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        """The whole body, in one chunk."""
        yield self.read()


@dataclass(frozen=True)
class AwsError:
    """AWS answers the attempt with an error code and HTTP status.

    The message quotes the request (AWS messages can echo the task token): it must not leak.
    """

    code: str
    status: int = 400

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse:
        """The error response, with the request aimed where moto won't answer it."""
        request.url = NOWHERE
        echoed = bytes(request.body or b"").decode("utf-8", "replace")
        body = json.dumps({"__type": self.code, "message": f"injected, request was {echoed}"})
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(NOWHERE, self.status, headers, _Body(body.encode()))  # type: ignore[arg-type]


@dataclass(frozen=True)
class NetworkError:
    """Botocore's HTTP layer fails the attempt (timeouts, refused connections)."""

    error_class: type[HTTPClientError]

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse:
        """Raise the network error, as urllib3 would."""
        raise self.error_class(endpoint_url=NOWHERE)


@dataclass(frozen=True)
class Crash:
    """Something unforeseen raises inside the client, quoting the request."""

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse:
        """Raise a RuntimeError that quotes the task token."""
        raise RuntimeError(f"injected crash: {request.body!r}")


Fault = Callable[[AWSPreparedRequest], AWSResponse]


class Faults:
    """Injects a fault into the next ``times`` HTTP attempts of the clients it is attached to.

    Counts API calls (``calls``, once per call whatever the retries), HTTP attempts
    (``attempts``) and the attempts that reached moto (``reached``, by task token for
    Step Functions, by operation for other services).
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.reached: Counter[str] = Counter()
        self._fault: Fault | None = None
        self._remaining = 0.0
        self._lock = threading.Lock()

    def attach(self, client: Any, *operations: str) -> Any:
        """Hook ``operations`` of ``client``, ahead of moto; returns the client."""
        service = client.meta.service_model.service_id.hyphenize()
        for operation in operations:
            client.meta.events.register_first(
                f"before-send.{service}.{operation}", self._before_send
            )
            client.meta.events.register(f"before-call.{service}.{operation}", self._before_call)
        return client

    def inject(self, fault: Fault, *, times: float = math.inf) -> None:
        """Fail the next ``times`` attempts (all of them by default) with ``fault``."""
        with self._lock:
            self._fault, self._remaining = fault, times

    def clear(self) -> None:
        """The fault is over: every attempt goes through again."""
        with self._lock:
            self._fault, self._remaining = None, 0

    def _before_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[1]
        with self._lock:
            self.attempts[operation] += 1
            fault = self._fault if self._remaining > 0 else None
            if fault is None:
                body = json.loads(request.body or b"{}")
                self.reached[body.get("taskToken", operation)] += 1
                return None  # moto's hook answers
            self._remaining -= 1
        return fault(request)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Botocore's standard retries decide as usual but sleep 0 s between attempts."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def sfn_faults() -> Faults:
    """Faults for the Step Functions client."""
    return Faults()


@pytest.fixture
def sfn_client(moto_sfn: MotoClients, sfn_faults: Faults, fresh_default_client: None) -> Any:
    """The library's own default Step Functions client (standard retries), on moto, hooked."""
    client = default_client()
    assert client.meta.config.retries["total_max_attempts"] == SFN_ATTEMPTS  # type: ignore[attr-defined]
    return sfn_faults.attach(client, "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat")


@pytest.fixture
def handler(codec: Codec, sfn_client: Any) -> CallbackHandler:
    """A handler completing through the hooked default client."""
    return CallbackHandler(codec, stepfunctions_client=sfn_client)


# --- helpers ----------------------------------------------------------------------------------


def click(handler: CallbackHandler, url: str, method: str = "GET") -> CallbackResponse:
    """What a browser asking for JSON gets for ``url``."""
    query = urlsplit(url).query
    return handler.handle(CallbackRequest(method, query, {"Accept": "application/json"}))


def assert_error(response: CallbackResponse, status: int, code: str) -> dict[str, str]:
    """The answer is the contract's JSON error body; 5xx ones carry a correlation id."""
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    expected = {"error", "message", "correlation_id"} if status >= 500 else {"error", "message"}
    assert set(body) == expected
    assert body["error"] == code
    if status >= 500:
        uuid.UUID(body["correlation_id"])
    return body


def assert_completed(
    handler: CallbackHandler, url: str, machine: ApprovalMachine, execution_arn: str
) -> None:
    """The URL completes the task now, and the real execution ends SUCCEEDED."""
    response = click(handler, url)
    assert response.status == 200, response.body
    described = machine.wait_for_status(execution_arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"approved": True}


def start(machine: ApprovalMachine, codec: Codec) -> tuple[str, str, str]:
    """Start an execution; its task token and an approve URL for it."""
    execution_arn = machine.start()
    token, _ = machine.wait_for_token()
    url = Minter(codec, BASE_URL).mint(token, [APPROVE]).urls["approve"]
    return execution_arn, token, url


# --- Step Functions ---------------------------------------------------------------------------


def test_transient_throttling_is_retried_and_completes(
    handler: CallbackHandler,
    codec: Codec,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
) -> None:
    """Two throttled attempts are retried by botocore: one call, three attempts, one completion."""
    execution_arn, token, url = start(approval_machine, codec)
    sfn_faults.inject(AwsError("ThrottlingException"), times=2)

    assert_completed(handler, url, approval_machine, execution_arn)

    assert sfn_faults.calls["SendTaskSuccess"] == 1
    assert sfn_faults.attempts["SendTaskSuccess"] == 3
    assert sfn_faults.reached == {token: 1}


@pytest.mark.parametrize(
    ("fault", "named"),
    [
        pytest.param(fault, named, id=named)
        for fault, named in [
            (AwsError("ThrottlingException", 400), "ThrottlingException"),
            (AwsError("InternalServerError", 500), "InternalServerError"),
            (AwsError("ServiceUnavailable", 503), "ServiceUnavailable"),
            (NetworkError(ReadTimeoutError), "ReadTimeoutError"),
            (NetworkError(ConnectTimeoutError), "ConnectTimeoutError"),
            (NetworkError(EndpointConnectionError), "EndpointConnectionError"),
        ]
    ],
)
def test_persistent_transient_faults_are_503_and_the_link_survives(
    handler: CallbackHandler,
    codec: Codec,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
    named: str,
) -> None:
    """Throttling, 5xx and timeouts outlasting the retries are 503; then the same URL completes.

    botocore retries while another try fits the click's budget (10 s: each attempt may take
    5 s with the default client's timeouts, after up to 2**(n-1) s of back-off), so it gives
    up after four attempts of the six it would make.
    """
    execution_arn, token, url = start(approval_machine, codec)
    sfn_faults.inject(fault)

    with caplog.at_level(logging.INFO):
        body = assert_error(click(handler, url), 503, "StepFunctionsUnavailable")

    assert named in body["message"]
    assert sfn_faults.attempts["SendTaskSuccess"] == 4  # retried while a try fit the budget
    assert sfn_faults.reached == {}  # nothing accepted: the link is not burnt
    assert token not in caplog.text
    assert token not in json.dumps(body)
    assert body["correlation_id"] in caplog.text

    sfn_faults.clear()
    assert_completed(handler, url, approval_machine, execution_arn)
    assert sfn_faults.reached == {token: 1}


def test_access_denied_is_502_not_retried_and_the_link_survives(
    handler: CallbackHandler, codec: Codec, sfn_faults: Faults, approval_machine: ApprovalMachine
) -> None:
    """AccessDenied is 502 StepFunctionsError after 1 attempt; once IAM is fixed, the URL works."""
    execution_arn, token, url = start(approval_machine, codec)
    sfn_faults.inject(AwsError("AccessDeniedException"))

    body = assert_error(click(handler, url), 502, "StepFunctionsError")

    assert "AccessDeniedException" in body["message"]
    assert token not in body["message"]
    assert sfn_faults.attempts["SendTaskSuccess"] == 1
    sfn_faults.clear()
    assert_completed(handler, url, approval_machine, execution_arn)
    assert sfn_faults.reached == {token: 1}


@pytest.mark.parametrize("aws_code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_task_gone_is_409_and_not_retried(
    handler: CallbackHandler,
    codec: Codec,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
    aws_code: str,
) -> None:
    """AWS's "task is gone" answers are 409 TaskAlreadyCompleted after one attempt, every click."""
    _, token, url = start(approval_machine, codec)
    sfn_faults.inject(AwsError(aws_code))

    for _ in range(2):
        body = assert_error(click(handler, url), 409, "TaskAlreadyCompleted")
        assert token not in body["message"]

    assert sfn_faults.calls["SendTaskSuccess"] == 2
    assert sfn_faults.attempts["SendTaskSuccess"] == 2  # no retries
    assert sfn_faults.reached == {}


@contextmanager
def unreachable_endpoint(kind: str) -> Iterator[str]:
    """A loopback endpoint that refuses, never accepts, or accepts and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        if kind == "refused":  # nothing listens on the port
            server.close()
            yield f"http://127.0.0.1:{port}"
            return
        fillers: list[socket.socket] = []
        try:
            if kind == "connect timeout":
                # A full accept queue: Linux drops further SYNs, so connecting times out.
                server.listen(0)
                for _ in range(3):
                    filler = socket.socket()
                    filler.setblocking(False)
                    filler.connect_ex(("127.0.0.1", port))
                    fillers.append(filler)
            else:  # "read timeout": the kernel accepts, nobody ever answers
                server.listen(8)
            yield f"http://127.0.0.1:{port}"
        finally:
            for filler in fillers:
                filler.close()


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("refused", "EndpointConnectionError"),
        ("connect timeout", "ConnectTimeoutError"),
        ("read timeout", "ReadTimeoutError"),
    ],
)
def test_real_network_failures_are_503_and_the_link_survives(
    codec: Codec,
    handler: CallbackHandler,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
    kind: str,
    named: str,
) -> None:
    """A real refused port, connect timeout or read timeout (0.2 s, 2 attempts) is 503."""
    execution_arn, token, url = start(approval_machine, codec)
    with unreachable_endpoint(kind) as endpoint:
        client = boto3.client(
            "stepfunctions",
            region_name=REGION,
            endpoint_url=endpoint,
            config=Config(
                connect_timeout=0.2,
                read_timeout=0.2,
                retries={"mode": "standard", "total_max_attempts": 2},
            ),
        )
        unreachable = Faults()
        unreachable.attach(client, "SendTaskSuccess")
        try:
            response = click(CallbackHandler(codec, stepfunctions_client=client), url)
        finally:
            client.close()
    body = assert_error(response, 503, "StepFunctionsUnavailable")
    assert named in body["message"]
    assert unreachable.attempts["SendTaskSuccess"] == 2

    assert_completed(handler, url, approval_machine, execution_arn)
    assert sfn_faults.reached == {token: 1}


def test_crash_inside_complete_is_500_without_secrets(
    handler: CallbackHandler,
    codec: Codec,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A RuntimeError raised by the client is 500 with a logged correlation id, and no secret."""
    execution_arn, token, url = start(approval_machine, codec)
    blob = blob_of(url)
    sfn_faults.inject(Crash(), times=1)

    with caplog.at_level(logging.INFO):
        response = click(handler, url)

    body = assert_error(response, 500, "InternalError")
    [line] = callback_records(caplog.records)
    assert line["correlation_id"] == body["correlation_id"]
    assert (line["exception"], line["status"]) == ("RuntimeError", 500)
    for secret in (token, blob, "Traceback", "injected crash"):
        assert secret not in caplog.text
        assert secret not in response.body.decode()

    assert_completed(handler, url, approval_machine, execution_arn)
    assert sfn_faults.reached == {token: 1}
    assert sfn_faults.attempts["SendTaskSuccess"] == 2


# --- KMS --------------------------------------------------------------------------------------

#: The KMS operation that recovers a data key on the handling side, by backend kind.
OPENING_OPERATION = {"envelope": "Decrypt", "derived": "GenerateMac"}
MINTING_OPERATION = {"envelope": "GenerateDataKey", "derived": "GenerateMac"}


@dataclass
class KmsSetup:
    """One KMS key in moto, and ways to build backends for it."""

    kind: str
    arn: str
    clock: FakeClock

    def backend(self, client: Any = None) -> KmsKey:
        """A fresh (cold) backend; without a client, it builds the library's default one."""
        options: dict[str, Any] = {
            "clock": self.clock,
            "max_age": timedelta(seconds=MAX_AGE_SECONDS),
        }
        if client is None:
            options["session"] = boto3.Session(region_name=REGION)
        else:
            options["client"] = client
        return kms_backend(self.kind, self.arn, **options)


@pytest.fixture(params=KMS_KINDS)
def kms_setup(request: pytest.FixtureRequest, moto_sfn: MotoClients) -> KmsSetup:
    """A symmetric key (envelope backend) or an HMAC_256 key (derived backend) in moto."""
    arn = new_kms_key(boto3.client("kms", region_name=REGION), request.param)
    return KmsSetup(request.param, arn, FakeClock())


def handling_key(setup: KmsSetup, faults: Faults) -> KmsKey:
    """A cold handling-side backend on the library's default KMS client, hooked by ``faults``."""
    key = setup.backend()
    faults.attach(key.client, OPENING_OPERATION[setup.kind])
    return key


@pytest.mark.parametrize(
    "aws_code",
    [
        "DisabledException",  # DisableKey
        "KMSInvalidStateException",  # ScheduleKeyDeletion: pending deletion
        "NotFoundException",  # deleted
    ],
)
def test_kms_key_disabled_after_minting(
    kms_setup: KmsSetup,
    sfn_client: Any,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
    aws_code: str,
) -> None:
    """A dead KMS key is 503 KeyUnavailable cold; a warm cache serves until max_age; then heals.

    Client seam: moto does not enforce DisableKey or ScheduleKeyDeletion, so the error AWS
    answers is injected on the handlers' KMS clients (the minter's client is left alone).
    """
    minting = Codec(kms_setup.backend(boto3.client("kms", region_name=REGION)))
    arns, tokens, urls = [], [], []
    for _ in range(2):
        arn, token, url = start(approval_machine, minting)
        arns.append(arn)
        tokens.append(token)
        urls.append(url)
    kms_faults = Faults()
    warm = CallbackHandler(
        Codec(handling_key(kms_setup, kms_faults)), stepfunctions_client=sfn_client
    )
    cold = CallbackHandler(
        Codec(handling_key(kms_setup, kms_faults)), stepfunctions_client=sfn_client
    )
    operation = OPENING_OPERATION[kms_setup.kind]
    assert key_header_of(blob_of(urls[0])) == key_header_of(blob_of(urls[1]))
    # A HEAD opens the URL (caching its data key) and completes nothing.
    assert click(warm, urls[0], "HEAD").status == 200
    assert kms_faults.attempts[operation] == 1

    kms_faults.inject(AwsError(aws_code))

    body = assert_error(click(cold, urls[1]), 503, "KeyUnavailable")
    assert aws_code in body["message"]
    assert kms_setup.arn not in body["message"]
    assert kms_faults.attempts[operation] == 2  # a 4xx answer: not retried
    # Warm: the cached data key still opens the first URL, with no KMS call, within max_age.
    assert_completed(warm, urls[0], approval_machine, arns[0])
    assert kms_faults.attempts[operation] == 2
    # Past max_age the warm handler must ask KMS again, and fails like the cold one.
    kms_setup.clock.advance(MAX_AGE_SECONDS)
    assert_error(click(warm, urls[1]), 503, "KeyUnavailable")

    kms_faults.clear()
    assert_completed(cold, urls[1], approval_machine, arns[1])
    assert sfn_faults.reached == {tokens[0]: 1, tokens[1]: 1}


def test_kms_throttling_is_503_then_retried_through(
    kms_setup: KmsSetup,
    sfn_client: Any,
    sfn_faults: Faults,
    approval_machine: ApprovalMachine,
) -> None:
    """KMS throttling past the retries is 503 KeyUnavailable; a transient one is retried through."""
    minting = Codec(kms_setup.backend(boto3.client("kms", region_name=REGION)))
    execution_arn, token, url = start(approval_machine, minting)
    kms_faults = Faults()
    handler = CallbackHandler(
        Codec(handling_key(kms_setup, kms_faults)), stepfunctions_client=sfn_client
    )
    operation = OPENING_OPERATION[kms_setup.kind]

    kms_faults.inject(AwsError("ThrottlingException"))
    body = assert_error(click(handler, url), 503, "KeyUnavailable")
    assert "ThrottlingException" in body["message"]
    assert kms_faults.attempts[operation] == KMS_ATTEMPTS
    assert sfn_faults.reached == {}

    kms_faults.inject(AwsError("ThrottlingException"), times=1)
    assert_completed(handler, url, approval_machine, execution_arn)
    assert kms_faults.attempts[operation] == KMS_ATTEMPTS + 2
    assert kms_faults.calls[operation] == 2
    assert sfn_faults.reached == {token: 1}


def test_data_key_cache_expiring_mid_traffic(kms_setup: KmsSetup) -> None:
    """90 URLs minted and opened over 10 max_ages: all open, one KMS call per data key per side."""
    minting_faults, opening_faults = Faults(), Faults()
    minting_key = kms_setup.backend(boto3.client("kms", region_name=REGION))
    minting_faults.attach(minting_key.client, MINTING_OPERATION[kms_setup.kind])
    minter = Minter(Codec(minting_key), BASE_URL)
    completions: list[Completion] = []
    handler = CallbackHandler(
        Codec(handling_key(kms_setup, opening_faults)), complete=completions.append
    )
    headers: set[bytes] = set()
    for step in range(30):
        for n in range(3):
            url = minter.mint(f"token-{step}-{n}", [APPROVE]).urls["approve"]
            headers.add(key_header_of(blob_of(url)))
            assert click(handler, url).status == 200
        kms_setup.clock.advance(MAX_AGE_SECONDS * 5 / 12)  # a new data key every third step

    assert [c.token for c in completions] == [f"token-{s}-{n}" for s in range(30) for n in range(3)]
    assert len(headers) == 10
    assert sum(minting_faults.calls.values()) == len(headers)
    assert sum(opening_faults.calls.values()) == len(headers)
