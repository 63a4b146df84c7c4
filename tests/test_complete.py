"""Tests of complete(): real moto executions end to end, and AWS's other answers at the client seam.

Moto (see DESIGN.md) runs the approval state machine for real, but answers some calls unlike AWS:
it drops ``cause``, answers a repeated success with ``InvalidToken`` (AWS: ``TaskTimedOut``),
silently accepts a repeated failure, and issues 36-character uuid tokens. What moto cannot show is
tested with ``botocore.stub.Stubber`` on a real boto3 client, or a fake client where botocore
raises before any response exists (network failures).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from helpers import (  # tests/ is on sys.path
    REGION,
    FakeStepFunctions,
    record_sfn_calls,
    synthetic_token,
)
from sfn_callback_urls._complete import (
    Completion,
    complete,
    default_client,
    encode_output,
    reset_default_client,
)
from sfn_callback_urls._contract import MAX_CAUSE_LENGTH as MAX_CAUSE_CHARS
from sfn_callback_urls._contract import MAX_ERROR_LENGTH as MAX_ERROR_CHARS
from sfn_callback_urls._contract import MAX_OUTPUT_BYTES
from sfn_callback_urls.errors import (
    OutputFormatting,
    OutputTooLarge,
    SfnCallbackUrlsError,
    StepFunctionsError,
    StepFunctionsUnavailable,
    TaskAlreadyCompleted,
)
from sfn_callback_urls.testing import ApprovalMachine

#: No test sees another's process-wide client.
pytestmark = pytest.mark.usefixtures("fresh_default_client")

LONG_TOKEN = synthetic_token()
ALREADY_COMPLETED_CODES = ["InvalidToken", "TaskDoesNotExist", "TaskTimedOut"]
SEND_TASK = ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat")
OPERATIONS = {
    "success": "send_task_success",
    "failure": "send_task_failure",
    "heartbeat": "send_task_heartbeat",
}


def completion_of(type_: str, token: str = LONG_TOKEN) -> Completion:
    """A typical completion of each type."""
    if type_ == "success":
        return Completion.success(token, {"approved": True})
    if type_ == "failure":
        return Completion.failure(token, error="rejected", cause="no")
    return Completion.heartbeat(token)


def assert_token_kept_secret(error: BaseException, token: str) -> None:
    """The token appears nowhere a log or a response could show it."""
    assert token not in str(error)
    assert token not in repr(error)
    assert token not in "".join(traceback.format_exception(error))
    assert error.__cause__ is None
    if isinstance(error, SfnCallbackUrlsError):
        assert token not in error.message
        assert token not in json.dumps(error.to_dict())


@pytest.fixture
def sfn_client(aws_env: None) -> Any:
    """A real boto3 Step Functions client that never reaches the network (Stubber only)."""
    return boto3.client("stepfunctions", region_name=REGION)


@pytest.fixture
def stubber(sfn_client: Any) -> Iterator[Stubber]:
    """A Stubber on ``sfn_client``; every queued answer must have been used."""
    with Stubber(sfn_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


# --- real executions in moto ------------------------------------------------------------------


def test_approve_succeeds_with_output(approval_machine: ApprovalMachine, moto_sfn: Any) -> None:
    """An approval completes the task: the execution succeeds with the output and confirms it."""
    execution_arn = approval_machine.start(name="Ben")
    token, request = approval_machine.wait_for_token()
    assert request["name_in_input"] == "Ben"

    complete(Completion.success(token, {"name_in_output": "Ben"}), client=moto_sfn.stepfunctions)

    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"name": "Ben", "output": {"name_in_output": "Ben"}}
    assert approval_machine.confirmation() == {"name_in_output": "Ben"}


def test_reject_is_caught_and_confirmed(approval_machine: ApprovalMachine, moto_sfn: Any) -> None:
    """A rejection is caught as error "rejected" (moto drops cause: asserted on the call)."""
    calls = record_sfn_calls(moto_sfn.stepfunctions, *SEND_TASK)
    execution_arn = approval_machine.start(name="Ben")
    token, _ = approval_machine.wait_for_token()

    complete(
        Completion.failure(token, error="rejected", cause="Ben rejected it"),
        client=moto_sfn.stepfunctions,
    )

    assert calls == [
        ("SendTaskFailure", {"taskToken": token, "error": "rejected", "cause": "Ben rejected it"})
    ]
    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["output"]["Error"] == "rejected"
    assert approval_machine.confirmation()["Error"] == "rejected"


def test_heartbeat_keeps_task_running(moto_sfn: Any) -> None:
    """Heartbeats keep a HeartbeatSeconds task alive; an unbeaten twin times out, then is gone."""
    with ApprovalMachine(moto_sfn.stepfunctions, moto_sfn.sqs, heartbeat_seconds=1) as machine:
        beaten_arn = machine.start(name="Ben")
        idle_arn = machine.start(name="Ana")
        tokens = {}
        for _ in range(2):
            token, request = machine.wait_for_token()
            tokens[request["name_in_input"]] = token

        deadline = time.monotonic() + 1.5  # well past the 1 s heartbeat timeout
        while time.monotonic() < deadline:
            complete(Completion.heartbeat(tokens["Ben"]), client=moto_sfn.stepfunctions)
            time.sleep(0.3)

        beaten = moto_sfn.stepfunctions.describe_execution(executionArn=beaten_arn)
        assert beaten["status"] == "RUNNING"
        idle = machine.wait_for_status(idle_arn)
        assert (idle["status"], idle.get("error")) == ("FAILED", "States.Timeout")
        with pytest.raises(TaskAlreadyCompleted):
            complete(Completion.heartbeat(tokens["Ana"]), client=moto_sfn.stepfunctions)

        complete(Completion.success(tokens["Ben"], {"ok": True}), client=moto_sfn.stepfunctions)
        assert machine.wait_for_status(beaten_arn)["status"] == "SUCCEEDED"


def test_second_click_after_finish_is_already_completed(
    approval_machine: ApprovalMachine, moto_sfn: Any
) -> None:
    """Once the execution has finished, approve or heartbeat again is TaskAlreadyCompleted."""
    execution_arn = approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    complete(Completion.success(token, {"first": True}), client=moto_sfn.stepfunctions)
    # moto accepts anything while the execution still runs: wait for the end first.
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"

    for again in (Completion.success(token, {"second": True}), Completion.heartbeat(token)):
        with pytest.raises(TaskAlreadyCompleted) as raised:
            complete(again, client=moto_sfn.stepfunctions)
        assert raised.value.aws_code in ALREADY_COMPLETED_CODES
        assert raised.value.code == "TaskAlreadyCompleted"
        assert_token_kept_secret(raised.value, token)


@pytest.mark.parametrize("token", ["not-a-task-token", LONG_TOKEN])
@pytest.mark.parametrize("type_", ["success", "heartbeat"])
def test_unknown_token_is_already_completed(moto_sfn: Any, token: str, type_: str) -> None:
    """A token Step Functions never issued is TaskAlreadyCompleted, and not echoed."""
    with pytest.raises(TaskAlreadyCompleted) as raised:
        complete(completion_of(type_, token), client=moto_sfn.stepfunctions)
    assert raised.value.aws_code == "InvalidToken"
    assert_token_kept_secret(raised.value, token)


def test_default_client_completes_a_real_execution(approval_machine: ApprovalMachine) -> None:
    """Without a client, complete() uses the process-wide one, configured from the environment."""
    execution_arn = approval_machine.start()
    token, _ = approval_machine.wait_for_token()

    complete(Completion.success(token, {"via": "default client"}))

    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
    assert default_client().meta.region_name == REGION  # type: ignore[attr-defined]


# --- what is sent (client seam) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        pytest.param(
            Completion.success(LONG_TOKEN, {"name_in_output": "Benoît", "n": [1, 2.5, None]}),
            {"output": '{"name_in_output":"Benoît","n":[1,2.5,null]}'},
            id="success-compact-unescaped-json",
        ),
        pytest.param(Completion.failure(LONG_TOKEN), {}, id="failure-bare"),
        pytest.param(
            Completion.failure(LONG_TOKEN, error="rejected"), {"error": "rejected"}, id="error"
        ),
        pytest.param(Completion.failure(LONG_TOKEN, cause="why"), {"cause": "why"}, id="cause"),
        pytest.param(
            Completion.failure(LONG_TOKEN, "rejected", "why"),
            {"error": "rejected", "cause": "why"},
            id="error-and-cause",
        ),
        pytest.param(
            Completion.failure(LONG_TOKEN, error="", cause=""),
            {"error": "", "cause": ""},
            id="empty-error-and-cause",
        ),
        pytest.param(
            Completion.failure(LONG_TOKEN, "e" * MAX_ERROR_CHARS, "c" * MAX_CAUSE_CHARS),
            {"error": "e" * MAX_ERROR_CHARS, "cause": "c" * MAX_CAUSE_CHARS},
            id="error-and-cause-at-limit",
        ),
        pytest.param(Completion.heartbeat(LONG_TOKEN), {}, id="heartbeat-token-only"),
    ],
)
def test_sends_exactly_the_completions_fields(
    sfn_client: Any, stubber: Stubber, completion: Completion, expected: dict[str, str]
) -> None:
    """A completion sends exactly its fields: compact JSON output, error and cause when given."""
    operation = OPERATIONS[completion.type]
    stubber.add_response(operation, {}, {"taskToken": LONG_TOKEN, **expected})
    complete(completion, client=sfn_client)


def test_synthetic_token_is_realistic() -> None:
    """The shared synthetic token looks like a real one: 684 base64 characters with +, / and =."""
    assert len(LONG_TOKEN) == 684
    assert {"+", "/", "="} <= set(LONG_TOKEN)


# --- limits, checked before any call -------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "size"),
    [
        ("a" * (MAX_OUTPUT_BYTES - 2), MAX_OUTPUT_BYTES),  # JSON adds the two quotes
        ("é" * ((MAX_OUTPUT_BYTES - 2) // 2), MAX_OUTPUT_BYTES),  # 2 UTF-8 bytes each
    ],
)
def test_output_at_limit_is_sent(sfn_client: Any, stubber: Stubber, output: str, size: int) -> None:
    """Output of exactly 256 KiB of UTF-8 JSON is sent."""
    text = encode_output(output)
    assert len(text.encode("utf-8")) == size
    stubber.add_response("send_task_success", {}, {"taskToken": LONG_TOKEN, "output": text})
    complete(Completion.success(LONG_TOKEN, output), client=sfn_client)


@pytest.mark.parametrize(
    "output",
    [
        "a" * (MAX_OUTPUT_BYTES - 1),
        "é" * (MAX_OUTPUT_BYTES // 2),  # fewer characters than the limit, more bytes
        {"items": ["x" * 1000] * 300},
    ],
)
def test_output_over_limit_is_refused_without_a_call(
    sfn_client: Any, stubber: Stubber, output: Any
) -> None:
    """Output over 256 KiB of UTF-8 JSON is OutputTooLarge, and Step Functions is not called."""
    calls = record_sfn_calls(sfn_client, *SEND_TASK)
    with pytest.raises(OutputTooLarge) as raised:
        complete(Completion.success(LONG_TOKEN, output), client=sfn_client)
    assert calls == []
    assert raised.value.status == 413
    assert_token_kept_secret(raised.value, LONG_TOKEN)


def circular() -> Any:
    """A list that contains itself."""
    value: list[Any] = []
    value.append(value)
    return value


@pytest.mark.parametrize(
    "make_output",
    [object, lambda: {1, 2}, lambda: float("nan"), lambda: {"x": float("inf")}, circular],
    ids=["object", "set", "nan", "infinity", "circular"],
)
def test_non_json_output_is_refused_without_a_call(
    sfn_client: Any, stubber: Stubber, make_output: Callable[[], Any]
) -> None:
    """Output that is not a JSON value is OutputFormatting (not TypeError), with no call."""
    calls = record_sfn_calls(sfn_client, *SEND_TASK)
    with pytest.raises(OutputFormatting) as raised:
        complete(Completion.success(LONG_TOKEN, make_output()), client=sfn_client)
    assert calls == []
    assert_token_kept_secret(raised.value, LONG_TOKEN)


@pytest.mark.parametrize(
    "completion",
    [
        Completion.failure(LONG_TOKEN, error="e" * (MAX_ERROR_CHARS + 1)),
        Completion.failure(LONG_TOKEN, cause="c" * (MAX_CAUSE_CHARS + 1)),
    ],
    ids=["error", "cause"],
)
def test_overlong_error_or_cause_is_refused_without_a_call(
    sfn_client: Any, stubber: Stubber, completion: Completion
) -> None:
    """An error over 256 characters or a cause over 32,768 is OutputTooLarge, with no call."""
    calls = record_sfn_calls(sfn_client, *SEND_TASK)
    with pytest.raises(OutputTooLarge) as raised:
        complete(completion, client=sfn_client)
    assert calls == []
    assert ("error" if completion.error else "cause") in raised.value.message
    assert_token_kept_secret(raised.value, LONG_TOKEN)


# --- AWS's answers (client seam) -----------------------------------------------------------------


@pytest.mark.parametrize("aws_code", ALREADY_COMPLETED_CODES)
@pytest.mark.parametrize("type_", list(OPERATIONS))
def test_task_gone_is_already_completed(
    sfn_client: Any, stubber: Stubber, type_: str, aws_code: str
) -> None:
    """TaskTimedOut, TaskDoesNotExist and InvalidToken all mean "already completed or expired"."""
    stubber.add_client_error(
        OPERATIONS[type_],
        service_error_code=aws_code,
        service_message=f"Provided task does not exist anymore: {LONG_TOKEN}",
    )
    with pytest.raises(TaskAlreadyCompleted) as raised:
        complete(completion_of(type_), client=sfn_client)
    assert raised.value.aws_code == aws_code
    assert raised.value.to_dict()["error"] == "TaskAlreadyCompleted"
    assert raised.value.status == 409
    assert_token_kept_secret(raised.value, LONG_TOKEN)


#: AWS error answers other than "task gone": (code, HTTP status, our error, its status, the why).
#: Throttling and 5xx answers (botocore has retried them) are StepFunctionsUnavailable; access,
#: KMS and other refusals are StepFunctionsError.
AWS_ERROR_ANSWERS = [
    ("ThrottlingException", 400, StepFunctionsUnavailable, 503, "try again later"),
    ("ServiceUnavailable", 503, StepFunctionsUnavailable, 503, "try again later"),
    ("InternalServerError", 500, StepFunctionsUnavailable, 503, "try again later"),
    ("KmsThrottlingException", 400, StepFunctionsUnavailable, 503, "try again later"),
    ("SomethingNewAndBroken", 502, StepFunctionsUnavailable, 503, "try again later"),
    (
        "AccessDeniedException",
        400,
        StepFunctionsError,
        502,
        "not allowed to call states:SendTaskSuccess",
    ),
    (
        "KmsAccessDeniedException",
        400,
        StepFunctionsError,
        502,
        "not allowed to use the state machine's KMS key",
    ),
    (
        "KmsInvalidStateException",
        400,
        StepFunctionsError,
        502,
        "KMS key is disabled or pending deletion",
    ),
    ("InvalidOutput", 400, StepFunctionsError, 502, "rejected the task output"),
    ("ValidationException", 400, StepFunctionsError, 502, "refused the SendTaskSuccess call"),
]


@pytest.mark.parametrize(
    ("aws_code", "http_status", "error_class", "status", "explanation"),
    AWS_ERROR_ANSWERS,
    ids=[answer[0] for answer in AWS_ERROR_ANSWERS],
)
def test_aws_error_answers_are_typed_errors(
    sfn_client: Any,
    stubber: Stubber,
    aws_code: str,
    http_status: int,
    error_class: type[StepFunctionsError],
    status: int,
    explanation: str,
) -> None:
    """Throttling and 5xx (retried) are 503 StepFunctionsUnavailable; refusals 502, naming why."""
    stubber.add_client_error(
        "send_task_success",
        service_error_code=aws_code,
        service_message=f"AWS's own message, quoting the token {LONG_TOKEN}",
        http_status_code=http_status,
    )
    with pytest.raises(StepFunctionsError) as raised:
        complete(completion_of("success"), client=sfn_client)
    error = raised.value
    assert type(error) is error_class
    assert (error.aws_code, error.status) == (aws_code, status)
    assert aws_code in error.message
    assert explanation in error.message
    assert error.original_error is not None
    assert_token_kept_secret(error, LONG_TOKEN)


def test_error_code_echoing_the_token_is_not_repeated(sfn_client: Any, stubber: Stubber) -> None:
    """An error code that is not a plain identifier is reported as "Unknown", not echoed."""
    stubber.add_client_error("send_task_heartbeat", service_error_code=f"Bad {LONG_TOKEN}")
    with pytest.raises(StepFunctionsError) as raised:
        complete(completion_of("heartbeat"), client=sfn_client)
    assert raised.value.aws_code == "Unknown"
    assert_token_kept_secret(raised.value, LONG_TOKEN)


@pytest.mark.parametrize(
    "error_class",
    [EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError],
)
@pytest.mark.parametrize("type_", list(OPERATIONS))
def test_network_failures_are_unavailable(error_class: type[BotoCoreError], type_: str) -> None:
    """Connection and read failures left after botocore's retries are StepFunctionsUnavailable."""
    client = FakeStepFunctions(error_class(endpoint_url=f"https://states.invalid/?t={LONG_TOKEN}"))
    with pytest.raises(StepFunctionsUnavailable) as raised:
        complete(completion_of(type_), client=client)
    assert error_class.__name__ in raised.value.message
    assert raised.value.original_error is client.error
    assert_token_kept_secret(raised.value, LONG_TOKEN)


def test_other_botocore_failures_are_step_functions_errors() -> None:
    """A botocore failure before any request (e.g. no credentials) is a StepFunctionsError."""
    with pytest.raises(StepFunctionsError) as raised:
        complete(completion_of("success"), client=FakeStepFunctions(NoCredentialsError()))
    assert type(raised.value) is StepFunctionsError
    assert "NoCredentialsError" in raised.value.message


def test_botocore_messages_are_not_echoed() -> None:
    """Botocore's own messages can quote the token: only the exception's class is reported."""
    leaky = ParamValidationError(
        report=f"Invalid type for parameter taskToken, value: {LONG_TOKEN}"
    )
    with pytest.raises(StepFunctionsError) as raised:
        complete(completion_of("heartbeat"), client=FakeStepFunctions(leaky))
    assert "ParamValidationError" in raised.value.message
    assert_token_kept_secret(raised.value, LONG_TOKEN)


# --- Completion and the default client ----------------------------------------------------------


@pytest.mark.parametrize("type_", list(OPERATIONS))
def test_completion_repr_hides_token(type_: str) -> None:
    """A Completion's repr and str never show the task token."""
    completion = completion_of(type_)
    assert LONG_TOKEN not in repr(completion)
    assert LONG_TOKEN not in str(completion)
    assert type_ in repr(completion)


def test_completion_constructors() -> None:
    """The class-method constructors fill in the type and only their own fields."""
    assert Completion.success("t", [1]) == Completion("t", "success", output=[1])
    assert Completion.failure("t", "e", "c") == Completion("t", "failure", error="e", cause="c")
    assert Completion.heartbeat("t") == Completion("t", "heartbeat")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Completion.heartbeat("t").token = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Completion("", "success"),
        lambda: Completion("t", "post"),  # type: ignore[arg-type]
        lambda: Completion("t", "heartbeat", output={"x": 1}),
        lambda: Completion("t", "success", error="e"),
        lambda: Completion("t", "heartbeat", cause="c"),
    ],
    ids=["empty-token", "unknown-type", "heartbeat-output", "success-error", "heartbeat-cause"],
)
def test_inconsistent_completion_is_refused(build: Callable[[], Completion]) -> None:
    """A Completion with an empty token, unknown type or another type's fields is a ValueError."""
    with pytest.raises(ValueError, match=r"\w"):
        build()


def test_default_client_is_built_once_per_process(aws_env: None) -> None:
    """The default client is created lazily, once even under concurrency, and reset on demand."""
    clients: list[object] = []
    threads = [threading.Thread(target=lambda: clients.append(default_client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1

    first = default_client()
    retries = first.meta.config.retries  # type: ignore[attr-defined]
    assert (retries["mode"], retries["total_max_attempts"]) == ("standard", 6)  # 5 retries
    assert first.meta.region_name == REGION  # type: ignore[attr-defined]
    reset_default_client()
    assert default_client() is not first


def test_import_creates_no_client() -> None:
    """Importing the module creates no boto3 session or client."""
    code = (
        "import boto3, sfn_callback_urls._complete as c\n"
        "assert c._default_client is None\n"
        "assert boto3.DEFAULT_SESSION is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
