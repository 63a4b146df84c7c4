"""``complete()``: the thin dispatch of one task outcome to Step Functions, and its error mapping.

A `Completion` says what to send (success with an output, failure with an error and
cause, or a heartbeat); `complete()` checks it against Step Functions' limits, makes the one
``SendTask*`` call and turns whatever AWS answers into this library's errors:

- the task is gone (``InvalidToken``, ``TaskDoesNotExist``, ``TaskTimedOut``):
  `TaskAlreadyCompleted`;
- throttling, 5xx answers and network failures left after botocore's retries, or no time
  left in the click's budget for another try (the deadline module): `StepFunctionsUnavailable`;
- anything else (access denied, KMS key problems, invalid output, ...):
  `StepFunctionsError`.

Task tokens are secrets: they never appear in a ``repr``, in an error message, or in a chained
traceback (AWS error messages can echo the token, so they are dropped; botocore's exception is
kept on ``original_error`` for code that needs it, but is not chained as ``__cause__``).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

from ._contract import MAX_CAUSE_LENGTH, MAX_ERROR_LENGTH, MAX_OUTPUT_BYTES, is_unicode_text
from ._deadline import DeadlineExceeded
from .errors import (
    OutputFormatting,
    OutputTooLarge,
    StepFunctionsError,
    StepFunctionsUnavailable,
    TaskAlreadyCompleted,
)
from .keys._aws import make_client

__all__ = [
    "OPERATIONS",
    "Completion",
    "CompletionType",
    "StepFunctionsClient",
    "complete",
    "default_client",
    "encode_output",
    "reset_default_client",
]

CompletionType = Literal["success", "failure", "heartbeat"]
"""Which call a `Completion` makes: ``SendTaskSuccess``, ``-Failure`` or ``-Heartbeat``."""

#: The Step Functions operation each completion type calls.
OPERATIONS: Final[dict[str, str]] = {
    "success": "SendTaskSuccess",
    "failure": "SendTaskFailure",
    "heartbeat": "SendTaskHeartbeat",
}

# botocore's "standard" retry mode (exponential backoff with jitter, retries throttling and
# transient errors) with 5 retries after the first attempt, as botocore counts max_attempts.
_DEFAULT_MAX_ATTEMPTS: Final = 5  # botocore's standard retry mode, 5 attempts in all

# AWS's ways of saying "this task is over". Real Step Functions answers a repeated call with
# TaskTimedOut ("Provided task does not exist anymore"); InvalidToken and TaskDoesNotExist
# cover tokens it never knew or has forgotten.
_ALREADY_COMPLETED_CODES: Final = frozenset({"InvalidToken", "TaskDoesNotExist", "TaskTimedOut"})

# Transient answers: worth retrying later. botocore has already retried them by the time we
# see them. KmsThrottlingException is KMS throttling Step Functions on our behalf: transient too.
_UNAVAILABLE_CODES: Final = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "KmsThrottlingException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


# Fixed explanations for the codes a deployer is likely to meet; {operation} is filled in.
_EXPLANATIONS: Final[dict[str, str]] = {
    "AccessDeniedException": (
        "the credentials in use are not allowed to call states:{operation} on this state machine"
    ),
    "KmsAccessDeniedException": "Step Functions is not allowed to use the state machine's KMS key",
    "KmsInvalidStateException": "the state machine's KMS key is disabled or pending deletion",
    "KmsThrottlingException": "KMS throttled Step Functions' use of the state machine's key",
    "InvalidOutput": "Step Functions rejected the task output as invalid JSON",
}

# An AWS error code is a short identifier; anything else is not echoed.
_SAFE_CODE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,99}")


class StepFunctionsClient(Protocol):
    """The three calls `complete()` makes: a boto3 ``stepfunctions`` client satisfies it.

    Errors are expected as botocore raises them (``ClientError`` and friends), so a fake for
    tests can raise those too.
    """

    def send_task_success(self, *, taskToken: str, output: str) -> object:
        """Complete the task with ``output`` (JSON text)."""

    def send_task_failure(self, *, taskToken: str, error: str = ..., cause: str = ...) -> object:
        """Fail the task with an optional ``error`` name and ``cause``."""

    def send_task_heartbeat(self, *, taskToken: str) -> object:
        """Tell Step Functions the task is still being worked on."""


@dataclass(frozen=True, slots=True)
class Completion:
    """One call to make to Step Functions for one task token.

    Build it with `success()`, `failure()` or `heartbeat()`. Limits (output size,
    error and cause length) are checked by `complete()`, just before the call.

    Attributes:
        token: the task token; a secret, left out of ``repr``.
        type: which call: ``"success"``, ``"failure"`` or ``"heartbeat"``.
        output: for a success, any JSON value (``None`` sends ``null``).
        error: for a failure, the error name a ``Catch``/``Retry`` can match, or ``None``.
        cause: for a failure, a human-readable explanation, or ``None``.
    """

    token: str = field(repr=False)
    type: CompletionType
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token:
            raise ValueError("The task token must be a non-empty string.")
        if self.type not in OPERATIONS:
            raise ValueError(f"Unknown completion type {self.type!r}.")
        if self.type != "success" and self.output is not None:
            raise ValueError("Only a success carries an output.")
        if self.type != "failure" and (self.error is not None or self.cause is not None):
            raise ValueError("Only a failure carries an error or a cause.")

    @classmethod
    def success(cls, token: str, output: Any = None) -> Completion:
        """A ``SendTaskSuccess`` of ``output``, a JSON-serializable value."""
        return cls(token, "success", output=output)

    @classmethod
    def failure(cls, token: str, error: str | None = None, cause: str | None = None) -> Completion:
        """A ``SendTaskFailure``; ``error`` is what the state machine's ``Catch`` matches on."""
        return cls(token, "failure", error=error, cause=cause)

    @classmethod
    def heartbeat(cls, token: str) -> Completion:
        """A ``SendTaskHeartbeat``: resets the task's ``HeartbeatSeconds`` clock."""
        return cls(token, "heartbeat")


# What json.dumps(output, separators=(",", ":"), ensure_ascii=False, allow_nan=False) builds
# on every call; an encoder keeps no state between calls, so one serves them all.
_OUTPUT_ENCODER: Final = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def encode_output(output: Any) -> str:
    """The compact JSON text Step Functions receives for ``output``, checked against its limit.

    Raises:
        OutputFormatting: ``output`` is not JSON (unserializable, circular, NaN or infinity, or
            a string with a lone surrogate).
        OutputTooLarge: the text is over 256 KiB of UTF-8.
    """
    try:
        text = _OUTPUT_ENCODER.encode(output)
    except (TypeError, ValueError, RecursionError):
        # The exception's text may quote the value; say only what kind of problem it is.
        raise OutputFormatting("The task output is not a JSON value.") from None
    if text.isascii():  # the usual case: one byte per character, no surrogate possible
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: JSON text Step Functions cannot read
            raise OutputFormatting("The task output is not valid Unicode text.") from None
    if size > MAX_OUTPUT_BYTES:
        raise OutputTooLarge
    return text


_default_client: StepFunctionsClient | None = None
_default_client_lock = threading.Lock()


def default_client() -> StepFunctionsClient:
    """The process-wide Step Functions client used when `complete()` is given none.

    Created on first use (never at import) from the process's botocore session, so region,
    credentials and endpoint come from the usual configuration (environment, config files,
    instance role; ``AWS_REGION`` counts when ``AWS_DEFAULT_REGION`` is unset), with
    botocore's standard retry mode and 5 attempts, 2 s connect and 3 s read timeouts, and a
    click's deadline obeyed. This client config takes precedence over
    ``AWS_RETRY_MODE``/``AWS_MAX_ATTEMPTS``: pass your own client to tune it.
    """
    global _default_client  # a lazily built, lock-guarded process singleton
    client = _default_client
    if client is None:
        with _default_client_lock:
            if _default_client is None:
                _default_client = make_client(
                    "stepfunctions", None, max_attempts=_DEFAULT_MAX_ATTEMPTS
                )
            client = _default_client
    return client


def reset_default_client() -> None:
    """Forget the process-wide client, so the next call builds a new one (for tests)."""
    global _default_client
    with _default_client_lock:
        _default_client = None


def complete(completion: Completion, *, client: StepFunctionsClient | None = None) -> None:
    """Make the Step Functions call ``completion`` describes.

    Args:
        completion: what to send, and the task token to send it for.
        client: a boto3 ``stepfunctions`` client (or anything with its three ``SendTask*``
            methods); by default the process-wide `default_client()`.

    Raises:
        OutputFormatting: the output is not JSON; nothing was sent.
        OutputTooLarge: the output, error or cause exceeds Step Functions' limits; nothing was sent.
        TaskAlreadyCompleted: the task was completed already, timed out, or never existed.
        StepFunctionsUnavailable: throttled, 5xx or unreachable even after botocore's retries.
        StepFunctionsError: any other refusal (access denied, KMS key problems, ...).
    """
    output = _check(completion)
    sfn = client if client is not None else default_client()
    token = completion.token
    try:
        if completion.type == "success":
            sfn.send_task_success(taskToken=token, output=output)
        elif completion.type == "failure":
            details: dict[str, str] = {}
            if completion.error is not None:
                details["error"] = completion.error
            if completion.cause is not None:
                details["cause"] = completion.cause
            sfn.send_task_failure(taskToken=token, **details)
        else:
            sfn.send_task_heartbeat(taskToken=token)
    except Exception as exc:
        # Not chained: botocore's message may echo the token, and tracebacks end up in logs.
        raise _from_aws_error(exc, OPERATIONS[completion.type], token) from None


def _check(completion: Completion) -> str:
    """Refuse what Step Functions would refuse; return the output text of a success."""
    if completion.type == "success":
        return encode_output(completion.output)
    for text in (completion.error, completion.cause):
        if text is not None and not is_unicode_text(text):
            raise OutputFormatting("The failure error or cause is not valid Unicode text.")
    if completion.error is not None and len(completion.error) > MAX_ERROR_LENGTH:
        raise OutputTooLarge(
            "The failure error is longer than Step Functions accepts "
            f"({MAX_ERROR_LENGTH} characters)."
        )
    if completion.cause is not None and len(completion.cause) > MAX_CAUSE_LENGTH:
        raise OutputTooLarge(
            "The failure cause is longer than Step Functions accepts "
            f"({MAX_CAUSE_LENGTH} characters)."
        )
    return ""


def _from_aws_error(
    exc: Exception, operation: str, token: str
) -> StepFunctionsError | TaskAlreadyCompleted:
    """Our error for what botocore raised (anything else is re-raised: it is a bug)."""
    # botocore is loaded by now: whatever client raised this came from it (or imitates it).
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        return _from_client_error(exc, operation, token)
    if isinstance(exc, DeadlineExceeded):
        code = exc.last_error if _SAFE_CODE.fullmatch(exc.last_error) else ""
        reason = f" ({code})" if code else ""
        return StepFunctionsUnavailable(
            f"Step Functions did not answer in time{reason}; try again later.",
            aws_code=code,
            original_error=exc,
        )
    if not isinstance(exc, BotoCoreError):
        raise exc
    # The network failures botocore retries and then gives up on.
    unreachable = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)
    if isinstance(exc, (*unreachable, ConnectionClosedError)):
        return StepFunctionsUnavailable(
            f"Step Functions could not be reached ({type(exc).__name__}); try again later.",
            original_error=exc,
        )
    return StepFunctionsError(
        f"The {operation} call failed before reaching Step Functions ({type(exc).__name__}).",
        original_error=exc,
    )


def _from_client_error(
    exc: ClientError, operation: str, token: str
) -> StepFunctionsError | TaskAlreadyCompleted:
    """Our error for an AWS error answer; the message names the code, never AWS's text."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if not _SAFE_CODE.fullmatch(code) or token in code:
        code = "Unknown"
    if code in _ALREADY_COMPLETED_CODES:
        return TaskAlreadyCompleted(aws_code=code)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    explanation = _EXPLANATIONS.get(code, "").format(operation=operation)
    if code in _UNAVAILABLE_CODES or status >= 500:  # any HTTP 5xx
        reason = f": {explanation}" if explanation else ""
        return StepFunctionsUnavailable(
            f"Step Functions is unavailable ({code}){reason}; try again later.",
            aws_code=code,
            original_error=exc,
        )
    reason = explanation or f"it refused the {operation} call"
    return StepFunctionsError(
        f"Step Functions could not complete the task: {reason} ({code}).",
        aws_code=code,
        original_error=exc,
    )
