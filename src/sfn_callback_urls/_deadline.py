"""The time budget of one click: every AWS call on its path (Step Functions, KMS) fits inside it.

A person is waiting on the other end of a click, and a Lambda behind API Gateway is killed at
its ``Timeout`` with a bare error page. So a click gets a `Deadline`: the handler's budget
(10 s by default), cut to a Lambda's remaining time less `LAMBDA_MARGIN` when a Lambda context
is given. While it is active (`Deadline.active()`, a context variable, so it follows
``asyncio.to_thread``), every botocore client `watch()` was called on obeys it:

- no attempt starts once the deadline has passed;
- a retry is made only if its longest back-off (botocore's standard mode: up to ``2**(n-1)``
  seconds before attempt ``n + 1``, at most 20) plus one attempt's connect and read timeouts
  still fit in what is left.

Either way `DeadlineExceeded` is raised, which the callers map to a 503 with ``Retry-After``
(`StepFunctionsUnavailable`, `KeyUnavailable`); nothing was completed, so the link still works
on a later try. The clients the library builds (`client_config()`) have connect and read
timeouts short enough for a few attempts to fit in the default budget; a client passed in
keeps its own timeouts, and the first attempt always runs: its timeouts bound it.

Without an active deadline (minting, a CLI command) the hooks do nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from botocore.config import Config

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_BUDGET",
    "LAMBDA_MARGIN",
    "READ_TIMEOUT",
    "Deadline",
    "DeadlineExceeded",
    "click_deadline",
    "client_config",
    "watch",
]

DEFAULT_BUDGET: Final = 10.0
"""Seconds a click may spend on AWS calls when nothing shorter is known."""

LAMBDA_MARGIN: Final = 1.0
"""Seconds kept back from a Lambda's remaining time: to render and return our own answer."""

CONNECT_TIMEOUT: Final = 2.0
"""Seconds the library's clients wait for a connection (botocore's default: 60)."""

READ_TIMEOUT: Final = 3.0
"""Seconds they wait for an answer. ``SendTask*`` and KMS ``Decrypt``/``GenerateMac`` take
milliseconds; in `DEFAULT_BUDGET`, an endpoint that never answers still gets a second attempt,
and a throttling one four."""

# botocore's standard and adaptive modes: the delay before attempt n + 1 is at most
# min(base * 2 ** (n - 1), 20) s, base 1 s for throttling (50 ms otherwise): bound by the larger.
_MAX_BACKOFF: Final = 20.0
_HOOK_ID: Final = "sfn-callback-urls-deadline"
_Client = TypeVar("_Client")


class DeadlineExceeded(Exception):
    """An AWS call on a click's path could not finish within the click's budget.

    Attributes:
        operation: the AWS operation (``SendTaskSuccess``, ``Decrypt``, ...).
        last_error: the AWS error code or exception name of the last attempt, or ``""``.
    """

    def __init__(self, operation: str, last_error: str = "") -> None:
        self.operation = operation
        self.last_error = last_error
        super().__init__(f"{operation}: no time left for another attempt ({last_error or 'none'})")


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time by which a click's AWS calls must be done.

    Attributes:
        at: the deadline, in ``clock`` seconds.
        clock: a monotonic clock (``time.monotonic`` by default).
    """

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - self.clock()

    def active(self) -> _Active:
        """Make this the deadline the watched clients obey, for the ``with`` block."""
        return _Active(self)


_CURRENT: ContextVar[Deadline | None] = ContextVar("sfn_callback_urls_deadline", default=None)


class _Active:
    """`Deadline.active()`'s ``with`` block: the context variable set on entry, reset on exit.

    A plain class rather than ``contextlib.contextmanager``: every click enters one, and a
    generator-based manager costs several times as much (a generator, its frames, the
    wrapper's ``next()`` calls), a visible part of a stubbed click in the benchmark.
    """

    __slots__ = ("_deadline", "_token")
    _token: Token[Deadline | None]

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __enter__(self) -> Deadline:
        self._token = _CURRENT.set(self._deadline)
        return self._deadline

    def __exit__(self, *exc_info: object) -> None:
        _CURRENT.reset(self._token)


def click_deadline(
    budget: float,
    lambda_context: object | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Deadline:
    """The deadline of a click: ``budget`` seconds, cut to a Lambda's remaining time.

    Args:
        budget: the handler's budget in seconds.
        lambda_context: a Lambda context (anything with ``get_remaining_time_in_millis()``):
            the deadline is then at most its remaining time less `LAMBDA_MARGIN`.
        clock: a monotonic clock.
    """
    seconds = budget
    remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        left = remaining_ms()
        if isinstance(left, (int, float)):
            seconds = min(seconds, left / 1000 - LAMBDA_MARGIN)
    return Deadline.after(seconds, clock=clock)


def client_config() -> Config:
    """The botocore configuration of the clients the library builds.

    Short connect and read timeouts, standard retries (bounded by a click's deadline too).
    """
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard"},
    )


def watch(client: _Client) -> _Client:
    """Make a botocore client obey the active deadline (once per client; idempotent).

    Anything that is not a botocore client (a fake in tests) is returned as it is.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    config = getattr(getattr(client, "meta", None), "config", None)
    if events is None or config is None:
        return client
    # One attempt's worst case: botocore's defaults (60 s each) if the client has none set.
    attempt = float(config.connect_timeout or 60) + float(config.read_timeout or 60)

    def before_send(event_name: str = "", **_: Any) -> None:
        deadline = _CURRENT.get()
        if deadline is not None and deadline.remaining() <= 0:
            raise DeadlineExceeded(event_name.rsplit(".", 1)[-1], "")

    def needs_retry(
        attempts: int = 1,
        operation: Any = None,
        response: Any = None,
        caught_exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        deadline = _CURRENT.get()
        if deadline is None or isinstance(caught_exception, DeadlineExceeded):
            return
        if not _retryable(attempts, operation, response, caught_exception):
            return  # a success, or an answer botocore gives up on at once (InvalidToken, ...)
        backoff = min(2.0 ** (attempts - 1), _MAX_BACKOFF)
        if deadline.remaining() < backoff + attempt:
            failed = _last_error(response, caught_exception)
            raise DeadlineExceeded(getattr(operation, "name", "?"), failed)

    # First, so that it decides before botocore's own handlers sleep.
    events.register_first("before-send", before_send, unique_id=f"{_HOOK_ID}-send")
    events.register_first("needs-retry", needs_retry, unique_id=f"{_HOOK_ID}-retry")
    return client


def _retryable(attempts: int, operation: Any, response: Any, caught: BaseException | None) -> bool:
    """Whether the standard retry mode of botocore would try again (max attempts aside)."""
    from botocore.retries.standard import RetryContext

    http, parsed = response if isinstance(response, tuple) else (None, None)
    context = RetryContext(
        attempt_number=attempts,
        operation_model=operation,
        parsed_response=parsed,
        http_response=http,
        caught_exception=caught if isinstance(caught, Exception) else None,
    )
    return bool(_conditions().is_retryable(context))


@functools.cache
def _conditions() -> Any:
    """The standard retry conditions of botocore, with attempts left to its own count."""
    from botocore.retries.standard import StandardRetryConditions

    return StandardRetryConditions(max_attempts=1_000)


def _last_error(response: Any, caught: BaseException | None) -> str:
    """The AWS error code (or exception name) of a failed attempt; ``""`` for a success."""
    if caught is not None:
        return type(caught).__name__
    if isinstance(response, tuple) and len(response) == 2:
        http, parsed = response
        status = getattr(http, "status_code", 200)
        if status >= 300:
            error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
            return str(error.get("Code") or status)
    return ""
