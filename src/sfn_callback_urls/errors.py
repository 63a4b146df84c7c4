"""One exception tree for everything that can go wrong.

Every error carries a stable ``code`` (the original app's names where they exist), an HTTP
``status`` and a ``message`` that is safe to show to whoever clicked the link: messages never
contain key material, task tokens or blobs.

Before a blob is authenticated, every failure is the same `InvalidPayload` with the same
message, so an attacker learns "invalid" and nothing more. After authentication, errors are
specific and carry data as attributes.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal, Protocol

__all__ = [
    "ActionMismatched",
    "AwsServiceError",
    "ConfigurationError",
    "DuplicateActionName",
    "ExpiredPayload",
    "InvalidComment",
    "InvalidDate",
    "InvalidJson",
    "InvalidJsonPath",
    "InvalidJsonSchema",
    "InvalidPayload",
    "InvalidPostActionBody",
    "InvalidRequest",
    "KeyUnavailable",
    "MethodNotAllowed",
    "MissingParameter",
    "NotFound",
    "OutputFormatting",
    "OutputTooLarge",
    "ParametersDisabled",
    "PayloadError",
    "PayloadTooLarge",
    "PostActionsDisabled",
    "RequestError",
    "ServerError",
    "SfnCallbackUrlsError",
    "StepFunctionsError",
    "StepFunctionsUnavailable",
    "TaskAlreadyCompleted",
    "UnsupportedEvent",
    "UnsupportedMediaType",
]


class SfnCallbackUrlsError(Exception):
    """Base of every error this library raises on purpose.

    Attributes:
        code: stable machine-readable code, the ``error`` field of JSON error bodies.
        status: the HTTP status a web handler answers with.
        message: a human-readable explanation, safe to show to the caller.
        retry_after: for errors worth a later try, the seconds an answer's ``Retry-After``
            header asks the caller to wait; ``None`` otherwise.
    """

    code: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 500
    retry_after: ClassVar[int | None] = None
    default_message: ClassVar[str] = "An internal error occurred."

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        """The contract's JSON error body: ``{"error": code, "message": message}``."""
        return {"error": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class RequestError(SfnCallbackUrlsError):
    """The caller sent something we refuse (HTTP 4xx)."""

    code = "RequestError"
    status = 400
    default_message = "The request is invalid."


class ServerError(SfnCallbackUrlsError):
    """Something on our side or in AWS failed; the caller may retry later (HTTP 5xx)."""

    code = "ServerError"
    status = 500


class ConfigurationError(ServerError):
    """The library was configured wrongly (a missing key, a bad base URL, ...)."""

    code = "ConfigurationError"


# --- create-URLs requests --------------------------------------------------------------------


class InvalidRequest(RequestError):
    """A create-URLs request (or action model) failed validation.

    ``errors`` lists ``(location, message)`` pairs, location being the dotted path of the field.
    """

    code = "InvalidRequest"
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, errors: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.errors: list[tuple[str, str]] = errors or []
        """``(location, message)`` pairs, location being the dotted path of the field."""


class InvalidJson(InvalidRequest):
    """A create-URLs request is not JSON (the original app's code, ``InvalidJSON``).

    The ready Lambda app (``aws_lambda``) also answers it, as the original did, for JSON that is
    not a valid request; the library's own calls say `InvalidRequest` for that.
    """

    code = "InvalidJSON"
    default_message = "The request is not valid JSON."


class DuplicateActionName(InvalidRequest):
    """Two actions (or two outcomes of one POST action) share a name."""

    code = "DuplicateActionName"


class InvalidDate(InvalidRequest):
    """An expiration is unparseable, lacks a timezone, or lies in the past."""

    code = "InvalidDate"


class InvalidJsonPath(InvalidRequest):
    """A POST outcome's ``output_path``/``error_path``/``cause_path`` is not valid JSONPath."""

    code = "InvalidJsonPath"


class InvalidJsonSchema(InvalidRequest):
    """A POST outcome's ``schema`` is not a valid JSON Schema."""

    code = "InvalidJsonSchema"


# --- opening blobs --------------------------------------------------------------------------


class PayloadError(RequestError):
    """Base of everything that can go wrong when opening a blob."""

    code = "InvalidPayload"
    default_message = "The callback URL is invalid."


class InvalidPayload(PayloadError):
    """The blob is not one we minted for this purpose and key: malformed, tampered or foreign.

    Deliberately says nothing about which check failed.
    """

    code = "InvalidPayload"
    default_message = "The callback URL is invalid or has been altered."


class PayloadTooLarge(PayloadError):
    """The blob, query string or body is larger than any we would mint or accept."""

    code = "PayloadTooLarge"
    status = 413
    default_message = "The request is too large."


class _SealedAction(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...


class _AuthenticClaims(Protocol):
    """A blob's `Claims` as errors carry them (a shape, not an import: errors are the bottom)."""

    @property
    def token(self) -> str: ...
    @property
    def action(self) -> _SealedAction: ...
    @property
    def transaction_id(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def output_parameters(self) -> bool: ...


class ExpiredPayload(PayloadError):
    """The blob is authentic but its expiration has passed."""

    code = "ExpiredPayload"
    default_message = "The callback URL has expired."

    def __init__(
        self,
        message: str | None = None,
        *,
        expired_at: datetime,
        claims: _AuthenticClaims | None = None,
    ) -> None:
        super().__init__(message)
        self.expired_at = expired_at
        """When the blob expired (timezone-aware UTC)."""
        self.claims = claims
        """The blob's authentic claims, for logs and inspection tools; never act on them.

        They hold the task token, a secret (hidden in their ``repr``).
        """


# --- handling callbacks ---------------------------------------------------------------------


class ActionMismatched(RequestError):
    """The ``action``/``type`` in the query string differ from the sealed ones."""

    code = "ActionMismatched"
    default_message = "The action in the URL does not match the sealed action."

    def __init__(
        self, message: str | None = None, *, claims: _AuthenticClaims | None = None
    ) -> None:
        super().__init__(message)
        self.claims = claims
        """The blob's authentic claims, for logs; they hold the task token, a secret."""


class NotFound(RequestError):
    """The path is not the callback endpoint (callback URLs end in ``/respond``)."""

    code = "NotFound"
    status = 404
    default_message = "Not found; callback URLs end in /respond."


class ParametersDisabled(RequestError):
    """Output parameters were used but are not enabled for this URL or handler."""

    code = "ParametersDisabled"
    default_message = "Output parameters are not enabled."


class MissingParameter(RequestError):
    """An output template refers to a query parameter the request did not supply."""

    code = "OutputFormatting"
    default_message = "A parameter required by this callback is missing."

    def __init__(self, message: str | None = None, *, parameter: str) -> None:
        super().__init__(message or f"The query parameter {parameter!r} is required.")
        self.parameter = parameter
        """The name of the missing query parameter."""


class OutputFormatting(RequestError):
    """An output template could not be applied."""

    code = "OutputFormatting"
    default_message = "The callback output could not be formatted."


class PostActionsDisabled(RequestError):
    """A POST action was opened by a handler that does not allow them."""

    code = "PostActionsDisabled"
    default_message = "POST actions are not enabled."


class InvalidPostActionBody(RequestError):
    """No outcome of the POST action accepts the request body."""

    code = "InvalidPostActionBody"
    default_message = "The request body matches no outcome of this action."


CommentProblem = Literal["missing", "too_long", "invalid_text"]
"""Why an approver's comment was refused (`InvalidComment.reason`)."""

_COMMENT_MESSAGES: dict[str, str] = {
    "missing": "A comment is required.",
    "too_long": "The comment is longer than this link accepts.",
    "invalid_text": "The comment holds control characters or text that is not valid Unicode.",
}


class InvalidComment(RequestError):
    """The approver's comment was refused at the click; nothing was sent to Step Functions.

    The confirm page is shown again with the reason next to the comment box. The message never
    quotes the comment.
    """

    code = "InvalidComment"
    default_message = "The comment cannot be accepted."

    def __init__(
        self, message: str | None = None, *, reason: CommentProblem, shown: str = ""
    ) -> None:
        super().__init__(message or _COMMENT_MESSAGES[reason])
        self.reason: CommentProblem = reason
        """What is wrong: ``"missing"``, ``"too_long"`` or ``"invalid_text"``."""
        self.shown = shown
        """The comment as the page shows it again (control characters removed); never logged."""

    def __repr__(self) -> str:
        return f"InvalidComment(reason={self.reason!r})"


class MethodNotAllowed(RequestError):
    """The HTTP method is not allowed for this URL."""

    code = "MethodNotAllowed"
    status = 405
    default_message = "This method is not allowed for this URL."

    def __init__(self, message: str | None = None, *, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed
        """The methods this URL accepts (the ``Allow`` header)."""


class UnsupportedMediaType(RequestError):
    """A POST body is not JSON."""

    code = "UnsupportedMediaType"
    status = 415
    default_message = "The request body must be JSON (application/json)."


class OutputTooLarge(RequestError):
    """The output for Step Functions exceeds its 256 KiB limit; refused before the call."""

    code = "OutputTooLarge"
    status = 413
    default_message = "The task output is larger than Step Functions accepts (256 KiB)."


class TaskAlreadyCompleted(RequestError):
    """Step Functions no longer knows the task: it was completed already, timed out, or stopped."""

    code = "TaskAlreadyCompleted"
    status = 409
    default_message = "This task has already been completed or has expired."

    def __init__(self, message: str | None = None, *, aws_code: str = "") -> None:
        super().__init__(message)
        self.aws_code = aws_code
        """The AWS error code that said so (``TaskTimedOut``, ``InvalidToken``, ...)."""


class AwsServiceError(ServerError):
    """An AWS call (Step Functions, KMS, SSM) failed; the base of the errors that say which.

    AWS error text may echo secrets (a task token, a ciphertext), so only the error code ever
    reaches the message.
    """

    code = "AwsServiceError"
    status = 502
    default_message = "An AWS service call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        aws_code: str = "",
        original_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.aws_code = aws_code
        """The AWS error code, or ``""`` when AWS gave none."""
        self.original_error = original_error
        """The botocore exception, for logs; never shown to the caller."""


class StepFunctionsError(AwsServiceError):
    """Step Functions refused or failed the call for a reason the caller cannot fix."""

    code = "StepFunctionsError"
    status = 502
    default_message = "Step Functions could not complete the task."


class StepFunctionsUnavailable(StepFunctionsError):
    """Step Functions throttled or timed out even after retries; try again later."""

    code = "StepFunctionsUnavailable"
    status = 503
    retry_after = 10  # the link still works: nothing was completed
    default_message = "Step Functions is unavailable; try again later."


class KeyUnavailable(AwsServiceError):
    """A key backend (e.g. KMS) failed: disabled key, denied access, wrong context, outage."""

    code = "KeyUnavailable"
    status = 503
    retry_after = 10  # the link still works: nothing was completed
    default_message = "The key needed for this URL is unavailable."


class UnsupportedEvent(ConfigurationError):
    """A Lambda event is not an HTTP event from API Gateway, a function URL or an ALB.

    A deployment error (the function is wired to the wrong trigger), hence a configuration error.
    """

    code = "UnsupportedEvent"
    default_message = "The event is not from API Gateway, a Lambda function URL or an ALB."
