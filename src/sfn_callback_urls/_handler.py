"""The framework-neutral callback handler: a request in, a response out.

Adapters (API Gateway, function URLs, ALB, WSGI, ASGI) only translate their events into a
`CallbackRequest` and the `CallbackResponse` back; all the logic lives here.

One request goes through these steps, each one module's job:

1. open the callback (`open_callback()`): read the query string, open the blob, check its
   expiry and the query's ``action``/``type`` against the sealed ones; with
   ``original_kms_key_id``, a blob of the original app's ``2-`` format is opened by its own
   reader instead, and checked the same way;
2. apply the method rules: POST actions take POST only; other actions take GET, HEAD and
   POST, where a GET may have to be confirmed by a POST (link scanners) and a HEAD never
   completes anything;
3. decide the outcome (`resolve_outcome()`), with the approver's comment when the action's
   confirm page takes one (`read_comment()`: a refused comment shows the page again, 400);
4. render the answer (the render module, in the handler's page theme), before anything
   happened; a confirm page may first check that the task still waits
   (``check_task_before_confirm``);
5. complete the task (`complete()`).

Every AWS call of steps 1, 4 and 5 (KMS, Step Functions) runs inside the click's time budget
(the deadline module): the handler's ``budget``, cut to a Lambda's remaining time less a margin;
when it runs out the answer is a 503 with ``Retry-After`` and the link still works later.
`CallbackHandler.handle_async()` runs `handle()` in a worker thread, for async code.

`CallbackHandler.handle()` never raises and never shows a traceback: library errors are
answered with their status and fixed bodies, anything else with a 500 that carries a
correlation id, also logged. Each request logs exactly one record on the
``sfn_callback_urls.handler`` logger (INFO when it completed or asked for a confirmation, WARNING
when refused, ERROR on a server error) whose fields are real fields (`LOG_FIELDS`), never the
task token, key material, the blob or the query string; with that logger enabled for
``DEBUG``, the record carries more details (still none of those).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from ._approval import ConfirmPage
from ._claims import Claims
from ._codec import Codec
from ._complete import Completion, StepFunctionsClient
from ._complete import complete as complete_task
from ._deadline import DEFAULT_BUDGET, click_deadline, watch
from ._http_headers import header
from ._logging import LoggerLike, emit, enabled_check, get_logger
from ._models import Action, PostAction
from ._original import OriginalUrlOpener, is_original_blob
from ._outcome import read_comment, resolve_outcome
from ._render import (
    HTML,
    JSON,
    CallbackResponse,
    MediaType,
    negotiate,
    render_confirm,
    render_error,
    render_json,
    render_success,
)
from ._theme import DEFAULT_THEME, PageTheme
from ._time import utcnow
from ._urls import BlobOpener, CallbackQuery, OpenedCallback, open_with
from .errors import (
    ActionMismatched,
    ConfigurationError,
    ExpiredPayload,
    InvalidComment,
    MethodNotAllowed,
    PostActionsDisabled,
    SfnCallbackUrlsError,
    TaskAlreadyCompleted,
)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

__all__ = [
    "LOGGER_NAME",
    "LOG_FIELDS",
    "CallbackHandler",
    "CallbackRequest",
    "CallbackResponse",
    "CompleteFunction",
    "LogOutcome",
]

LOGGER_NAME: Final = "sfn_callback_urls.handler"
"""The logger every request's one record goes to."""

LOG_FIELDS: Final = (
    "event",
    "outcome",
    "status",
    "method",
    "transaction_id",
    "action",
    "type",
    "post_outcome",
    "error",
    "aws_code",
    "correlation_id",
    "exception",
    "exception_at",
    "source_ip",
    "user_agent",
    "duration_ms",
    "original_url",
    "comment_length",
    "probe",
    # With the logger enabled for DEBUG (VERBOSE on the ready app):
    "error_message",
    "media_type",
    "issued_at",
    "expires_at",
    "output_parameters",
    "params",
    "content_type",
    "body_bytes",
)
"""The fields a callback record can carry (``event`` is always ``"callback"``)."""

_MAX_USER_AGENT = 200
#: Other request-supplied text logged at DEBUG (parameter names, the content type).
_MAX_LOGGED_FIELD = 100

LogOutcome = Literal["completed", "confirm", "rejected", "error"]
"""The ``outcome`` field of a log line: what became of the request."""

_POST_ONLY: Final = ("POST",)
_GET_OR_POST: Final = ("GET", "HEAD", "POST")

# Answered when even rendering the error failed: built once, at import, by the render module.
_LAST_RESORT: Final = render_json(
    500, {"error": "InternalError", "message": "An internal error occurred."}
)


@dataclass(frozen=True, repr=False)
class CallbackRequest:
    """An HTTP request to the callback endpoint, as any framework sees it.

    Its ``repr`` shows the method, the sizes of the query and body and the header names only:
    the query holds the blob (a capability), and bodies and headers (cookies) may hold secrets.

    Attributes:
        method: the HTTP method, upper case.
        query: the raw query string (without ``?``), or already-parsed single values.
        headers: header names in any case (looked up case-insensitively).
        body: the raw body bytes (already base64-decoded by the adapter).
        source_ip: the client's address as the front end saw it, for the log (not trusted).
    """

    method: str
    query: str | Mapping[str, str] = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str | None = None

    def __repr__(self) -> str:
        unit = "characters" if isinstance(self.query, str) else "parameters"
        return (
            f"CallbackRequest(method={self.method!r}, query=<{len(self.query)} {unit}>, "
            f"headers={sorted(self.headers)!r}, body=<{len(self.body)} bytes>)"
        )


class CompleteFunction(Protocol):
    """What the handler calls to send a completion (``complete`` bound to a client, or a fake)."""

    def __call__(self, completion: Completion, /) -> None:
        """Send ``completion`` to Step Functions, raising the library's errors."""


class CallbackHandler:
    """Opens callback URLs, completes the task and renders the answer.

    Args:
        codec: opens the blobs (same keys, mode and purpose as the minter's).
        stepfunctions_client: a boto3 ``stepfunctions`` client for `complete()`; by default
            the process-wide one, built on first use.
        enable_output_parameters: allow output parameters for URLs minted with them; when
            ``False``, such URLs are refused (``ParametersDisabled``), as in the original app.
        enable_post_actions: allow POST actions; when ``False`` they are refused
            (``PostActionsDisabled``).
        confirm_get: for actions whose ``confirm`` is unset, whether a GET must be confirmed
            by a POST before anything happens (protects against link scanners). ``False`` keeps
            the original app's behaviour: a GET completes the task.
        leeway: clock skew tolerated on expiry; the codec's by default.
        clock: returns the current time (timezone-aware); the wall clock by default.
        complete: called with each `Completion` instead of
            `complete()` (tests, custom dispatch).
        logger: where the one record per request goes (a ``logging.Logger``, a Powertools
            ``Logger``, anything `LoggerLike`); ``sfn_callback_urls.handler`` by default.
            Enabled for ``DEBUG``, its records carry more details.
        original_kms_key_id: also open the original sfn-callback-urls app's ``2-`` URLs,
            encrypted under this KMS key (its id, ARN or alias; the original stack's
            ``KEY_ID``), for an in-place upgrade. They are completed as the original would
            have, with this handler's switches, method rules, leeway and responses. Needs
            ``sfn-callback-urls[original]``, ``kms:Decrypt`` on the key (and
            ``kms:DescribeKey`` unless it is a key ARN). The original's unencrypted ``1-``
            URLs are never accepted. ``None`` (the default): they are all `InvalidPayload`.
        original_kms_client: the boto3 KMS client for those URLs; by default one is built on
            first use.
        page_theme: the look and words of the built-in HTML pages (product name, logo, accent
            colour, footer, every string); the built-in English look by default.
        check_task_before_confirm: before showing a confirm page, check with
            ``SendTaskHeartbeat`` that the task still waits, and say "already answered"
            instead of a form that can only fail. Off by default: the heartbeat resets the
            task's heartbeat timer, and needs ``states:SendTaskHeartbeat``.
        budget: seconds one request may spend on AWS calls (opening a KMS-sealed blob,
            completing the task), retries included; 10 by default. With a Lambda context
            (``handle(request, lambda_context=context)``), at most its remaining time less a
            second. When it runs out the answer is `StepFunctionsUnavailable` or
            `KeyUnavailable` (503, ``Retry-After``), and the link still works later. The
            clients the library builds wait 2 s to connect and 3 s for an answer; a client
            you pass keeps its own timeouts (botocore's default is 60 s each): set them
            shorter than the budget.

    Raises:
        ConfigurationError: ``original_kms_key_id`` is given without the ``original`` extra
            installed, or is empty; or ``original_kms_client`` is given without it; or
            ``budget`` is not a positive number.
    """

    def __init__(
        self,
        codec: Codec,
        *,
        stepfunctions_client: StepFunctionsClient | None = None,
        enable_output_parameters: bool = False,
        enable_post_actions: bool = False,
        confirm_get: bool = False,
        leeway: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
        complete: CompleteFunction | None = None,
        logger: LoggerLike | None = None,
        original_kms_key_id: str | None = None,
        original_kms_client: KMSClient | None = None,
        page_theme: PageTheme | None = None,
        check_task_before_confirm: bool = False,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
            raise ConfigurationError("budget must be a positive number of seconds.")
        self.budget = float(budget)
        """Seconds one request may spend on AWS calls (see the class's arguments)."""
        self.codec = codec
        """Opens the blobs (its keyring, mode and purpose decide what is accepted)."""
        self.enable_output_parameters = enable_output_parameters
        """Whether query parameters may fill ``$templates`` (the blob must allow it too)."""
        self.enable_post_actions = enable_post_actions
        """Whether POST actions are served at all."""
        self.confirm_get = confirm_get
        """Default link-scanner-safe mode for actions that don't choose: GET only confirms."""
        self.leeway = codec.leeway if leeway is None else leeway
        """Clock skew tolerated on expiry."""
        self.page_theme = DEFAULT_THEME if page_theme is None else page_theme
        """The look and words of the built-in HTML pages."""
        self.check_task_before_confirm = check_task_before_confirm
        """Whether a confirm page is shown only while the task still waits (a heartbeat)."""
        self._clock = utcnow if clock is None else clock
        # A botocore client obeys each click's deadline (a fake is left as it is).
        self._client = None if stepfunctions_client is None else watch(stepfunctions_client)
        self._complete = complete
        self._logger = get_logger(LOGGER_NAME, logger)
        self._enabled = enabled_check(self._logger)
        if original_kms_key_id is None and original_kms_client is not None:
            raise ConfigurationError("original_kms_client needs original_kms_key_id.")
        self._original = (
            None
            if original_kms_key_id is None
            else OriginalUrlOpener(
                original_kms_key_id, client=original_kms_client, leeway=self.leeway
            )
        )

    @property
    def original_kms_key_id(self) -> str | None:
        """The KMS key whose original ``2-`` URLs are opened too, or ``None``."""
        return None if self._original is None else self._original.kms_key_id

    def __repr__(self) -> str:
        original = (
            "" if self._original is None else f", original_kms_key_id={self._original.kms_key_id!r}"
        )
        return (
            f"CallbackHandler({self.codec!r}, enable_output_parameters="
            f"{self.enable_output_parameters}, enable_post_actions={self.enable_post_actions}, "
            f"confirm_get={self.confirm_get}{original})"
        )

    # -- the one public call ---------------------------------------------------------------

    def prepare(self) -> None:
        """Build now what the first callback would, for a pre-initialised environment.

        The Step Functions client (the process-wide one unless one was given; its operations'
        models loaded) and, with ``original_kms_key_id``, the original URLs' reader (KMS client,
        key ARN, Encryption SDK). Nothing is sent to Step Functions.

        Raises:
            KeyUnavailable: ``DescribeKey`` of the original app's key failed.
        """
        from ._complete import OPERATIONS, default_client

        client = self._client if self._client is not None else default_client()
        meta = getattr(client, "meta", None)  # a botocore client (fakes have none)
        if meta is not None:
            for operation in OPERATIONS.values():
                model = meta.service_model.operation_model(operation)
                (model.input_shape, model.output_shape)  # noqa: B018 - parsed on first access
        if self._original is not None:
            self._original.prepare()

    def handle(
        self, request: CallbackRequest, *, lambda_context: object | None = None
    ) -> CallbackResponse:
        """Handle one request; never raises, and logs exactly one record.

        It blocks while AWS answers (up to ``budget`` seconds): from ``async`` code, await
        `handle_async()` instead.

        Args:
            request: the HTTP request.
            lambda_context: in a Lambda, its context: the AWS calls then end a second before
                the function would time out, so that the person gets our 503 page rather
                than the front end's bare error.
        """
        started = time.perf_counter()
        deadline = click_deadline(self.budget, lambda_context)
        record: dict[str, Any] = {
            "event": "callback",
            "method": None,
            "transaction_id": None,
            "action": None,
            "type": None,
        }
        media_type: MediaType = JSON
        head = False
        outcome: LogOutcome
        try:
            method = str(request.method)
            # ASCII only: Unicode case mapping turns look-alikes into methods (a long s, U+017F,
            # upper-cases to "S").
            method = method.upper() if method.isascii() else method
            head = method == "HEAD"
            # Like every field from the request, printable ASCII: a method is letters (RFC 9110
            # allows more, nobody sends it), and a look-alike (a Cyrillic O in "POST") is "?".
            record["method"] = (
                method if method.isascii() and method.isalpha() and len(method) <= 16 else "?"
            )
            record["source_ip"] = _printable(request.source_ip, 64)
            record["user_agent"] = _printable(
                header(request.headers, "user-agent"), _MAX_USER_AGENT
            )
            media_type = negotiate(header(request.headers, "accept"))
            with deadline.active():
                response, outcome = self._handle(request, method, media_type, record)
        except SfnCallbackUrlsError as exc:
            response, outcome = self._error_response(exc, media_type, record)
        except Exception as exc:  # a bug or an unforeseen failure: 500, never a traceback
            record["exception"] = type(exc).__qualname__
            record["exception_at"] = _where(exc)
            response, outcome = self._error_response(SfnCallbackUrlsError(), media_type, record)
        if head:
            response = replace(response, body=b"")
        record["outcome"] = outcome
        record["status"] = response.status
        self._log(record, response.status, started)
        return response

    async def handle_async(
        self, request: CallbackRequest, *, lambda_context: object | None = None
    ) -> CallbackResponse:
        """`handle()` in a worker thread: what ``async`` views await.

        A slow AWS call then never stalls the event loop (and every other request it serves).
        """
        return await asyncio.to_thread(self.handle, request, lambda_context=lambda_context)

    # -- steps -----------------------------------------------------------------------------

    def _handle(
        self,
        request: CallbackRequest,
        method: str,
        media_type: MediaType,
        record: dict[str, Any],
    ) -> tuple[CallbackResponse, LogOutcome]:
        try:
            opened = self._open(request.query, record)
        except (ExpiredPayload, ActionMismatched) as error:
            if isinstance(error.claims, Claims):  # authentic: worth a line in the log
                _record_claims(record, error.claims)
            raise
        claims = opened.claims
        action = claims.action
        _record_claims(record, claims)
        if self._enabled(logging.DEBUG):
            _record_details(record, opened, request, media_type)
        is_post_action = isinstance(action, PostAction)
        if is_post_action and not self.enable_post_actions:
            raise PostActionsDisabled
        allowed = _POST_ONLY if is_post_action else _GET_OR_POST
        if method not in allowed:
            raise MethodNotAllowed(allowed=allowed)

        page = action.confirm if isinstance(action.confirm, ConfirmPage) else None
        comment: str | None = None
        if method == "POST" and page is not None and page.takes_comment:
            try:
                comment = read_comment(request.body, header(request.headers, "content-type"), page)
            except InvalidComment as refused:
                if media_type != HTML:
                    raise
                # A person at the page: the same form again, with the reason next to the box.
                record["error"] = refused.code
                again = self._confirm_page(action, claims, media_type, refused)
                return again, "rejected"
            # Its length only: the comment is the approver's words, never logged.
            record["comment_length"] = 0 if comment is None else len(comment)
        resolved = resolve_outcome(
            opened,
            enable_output_parameters=self.enable_output_parameters,
            body=request.body,
            # Read for POST actions only: a GET need not scan the headers for it.
            content_type=header(request.headers, "content-type") if is_post_action else None,
            comment=comment,
        )
        if resolved.post_outcome is not None:
            record["post_outcome"] = resolved.post_outcome
        # Resolved first, so that a GET that must be confirmed already reports a missing
        # parameter; a HEAD never completes anything and answers like that GET.
        if method == "HEAD" or (method == "GET" and self._must_confirm(action)):
            if method == "GET" and self.check_task_before_confirm:
                self._probe(claims.token, record)  # a form that can only fail is not shown
            return self._confirm_page(action, claims, media_type, None), "confirm"
        # Rendered before the task is touched: an answer that cannot be built or sent is
        # refused while nothing has happened yet.
        response = render_success(
            action,
            transaction_id=claims.transaction_id,
            response=resolved.response,
            media_type=media_type,
            theme=self.page_theme,
            comment=comment,
        )
        self._send(resolved.completion)
        return response, "completed"

    def _confirm_page(
        self,
        action: Action,
        claims: Claims,
        media_type: MediaType,
        refused: InvalidComment | None,
    ) -> CallbackResponse:
        return render_confirm(
            action,
            transaction_id=claims.transaction_id,
            media_type=media_type,
            theme=self.page_theme,
            expires_at=claims.expires_at,
            refused=refused,
        )

    def _probe(self, token: str, record: dict[str, Any]) -> None:
        """Check that the task still waits (a heartbeat); raise if it was answered or closed.

        Any other failure (throttling, an outage) leaves the decision to the button: the
        form is shown, and its POST gets the real answer.
        """
        try:
            self._send(Completion.heartbeat(token))
        except TaskAlreadyCompleted:
            record["probe"] = "answered"
            raise
        except SfnCallbackUrlsError as error:
            record["probe"] = "failed"
            record["aws_code"] = getattr(error, "aws_code", "") or error.code
        else:
            record["probe"] = "waiting"

    def _open(self, query: str | Mapping[str, str], record: dict[str, Any]) -> OpenedCallback:
        now = self._clock()
        if self._original is None:
            return open_with(self.codec, query, now=now, leeway=self.leeway)
        parsed = CallbackQuery.parse(query)
        opener: BlobOpener = self.codec
        if is_original_blob(parsed.data):
            # The original app's URL (in-place upgrade): its own reader, the same checks.
            record["original_url"] = True  # when these stop showing up, turn the opt-in off
            opener = self._original
        return open_with(opener, parsed, now=now, leeway=self.leeway)

    def _must_confirm(self, action: Action) -> bool:
        confirm = action.confirm
        if confirm is None:
            return self.confirm_get
        return True if isinstance(confirm, ConfirmPage) else confirm

    def _send(self, completion: Completion) -> None:
        if self._complete is not None:
            self._complete(completion)
        else:
            complete_task(completion, client=self._client)

    def _error_response(
        self, error: SfnCallbackUrlsError, media_type: MediaType, record: dict[str, Any]
    ) -> tuple[CallbackResponse, LogOutcome]:
        record["error"] = error.code
        if self._enabled(logging.DEBUG):
            # Safe to show by contract, so safe to log ("message" is the LogRecord's own).
            record["error_message"] = error.message
        aws_code = getattr(error, "aws_code", "")
        if aws_code:
            record["aws_code"] = aws_code
        server_side = error.status >= 500
        correlation_id = str(uuid.uuid4()) if server_side else None
        if correlation_id is not None:
            record["correlation_id"] = correlation_id
        try:
            response = render_error(
                error, media_type, correlation_id=correlation_id, theme=self.page_theme
            )
        except Exception:  # pragma: no cover - render_error has no failure mode we know of
            response = _LAST_RESORT
        return response, "error" if server_side else "rejected"

    def _log(self, record: dict[str, Any], status: int, started: float) -> None:
        if status >= 500:
            level = logging.ERROR
        elif status >= 400:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not self._enabled(level):
            return
        # Timed up to here (the answer is ready): only a record that is logged needs it.
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        action = record["action"] or "?"
        kind = f" ({record['type']})" if record["type"] else ""
        error = f" {record['error']}" if "error" in record else ""
        reference = f" (reference {record['correlation_id']})" if "correlation_id" in record else ""
        message = f"callback {record['outcome']}: {action}{kind} {status}{error}{reference}"
        emit(self._logger, level, message, record)


_NOT_PRINTABLE_ASCII = re.compile(r"[^ -~]")


def _printable(value: str | None, limit: int) -> str | None:
    """A header-ish value fit for a log field, or ``None``: see `_printable_text`."""
    return None if value is None else _printable_text(value, limit)


def _printable_text(value: str, limit: int) -> str:
    """Printable ASCII, at most ``limit`` characters: anything else becomes ``?``."""
    value = value[:limit]
    if value.isascii() and value.isprintable():  # for ASCII: only " " to "~"; the usual case
        return value
    return _NOT_PRINTABLE_ASCII.sub("?", value)


def _record_claims(record: dict[str, Any], claims: Claims) -> None:
    action = claims.action
    record["transaction_id"] = claims.transaction_id
    record["action"] = action.name
    record["type"] = action.type


def _record_details(
    record: dict[str, Any], opened: OpenedCallback, request: CallbackRequest, media_type: str
) -> None:
    """Debug details (``VERBOSE``): what was asked for, never a token, key, blob or value."""
    claims = opened.claims
    record.update(
        media_type=media_type,
        issued_at=claims.issued_at.isoformat(),
        expires_at=None if claims.expires_at is None else claims.expires_at.isoformat(),
        output_parameters=claims.output_parameters,
        # Names only (the values are whatever the person holding the URL typed), and like
        # every field from the request, printable ASCII only: no forged lines in the log.
        params=sorted(
            _printable_text(name, _MAX_LOGGED_FIELD)
            for name in opened.params
            if name not in ("action", "type")
        ),
        content_type=_printable(header(request.headers, "content-type"), _MAX_LOGGED_FIELD),
        body_bytes=len(request.body),
    )


def _where(exc: BaseException) -> str | None:
    """``file:line (function)`` of the innermost frame of ``exc``: where, never what."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} ({last.name})"
