"""Structured log records: one per mint and one per callback, their fields as real fields.

A record's fields go in ``extra``, so they become attributes of the ``LogRecord``: Lambda's JSON
log format, Powertools' ``Logger`` and any JSON formatter put them at the top level, where
CloudWatch Logs Insights can filter on them (``docs/deploy.md`` has the queries). The message is
one human-readable line. No field ever holds a task token, key material, a blob or a query
string: the callers build records from names, ids, codes and statuses only.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Protocol

from ._contract import flag

__all__ = [
    "ENV_DEBUG_AWS",
    "LoggerLike",
    "emit",
    "enabled",
    "enabled_check",
    "get_logger",
    "quiet_aws_loggers",
    "silenced",
]

#: ``true`` leaves botocore's loggers alone (`quiet_aws_loggers`): they log secrets at DEBUG.
ENV_DEBUG_AWS: Final = "SFN_CALLBACK_URLS_DEBUG_AWS"

_AWS_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


class LoggerLike(Protocol):
    """What the library logs to: a ``logging.Logger``, a Powertools ``Logger``, or your own."""

    def info(self, msg: str, *, extra: Mapping[str, object] | None = ...) -> None:
        """Log ``msg`` at INFO with the fields in ``extra``."""

    def warning(self, msg: str, *, extra: Mapping[str, object] | None = ...) -> None:
        """Log ``msg`` at WARNING with the fields in ``extra``."""

    def error(self, msg: str, *, extra: Mapping[str, object] | None = ...) -> None:
        """Log ``msg`` at ERROR with the fields in ``extra``."""


def get_logger(name: str, logger: LoggerLike | None) -> LoggerLike:
    """``logger``, or the standard library's logger called ``name``."""
    return logging.getLogger(name) if logger is None else logger


def enabled(logger: LoggerLike, level: int) -> bool:
    """Whether a record at ``level`` would be emitted (always true for non-stdlib loggers).

    A logger whose check fails counts as enabled: `emit` then swallows what fails again.
    """
    check = getattr(logger, "isEnabledFor", None)
    if check is None:
        return True
    try:
        return bool(check(level))
    except Exception:
        return True


def enabled_check(logger: LoggerLike) -> Callable[[int], bool]:
    """`enabled` for ``logger``, as a one-argument function made once (a handler's, per request).

    A standard library logger's own ``isEnabledFor`` (cached by ``logging``, reset when a level
    changes); for any other logger, `enabled` with it.
    """
    if type(logger) is logging.Logger:  # a subclass may override the check (and fail)
        return logger.isEnabledFor
    return functools.partial(enabled, logger)


def emit(logger: LoggerLike, level: int, message: str, fields: Mapping[str, object]) -> None:
    """Log one record; a broken logging set-up never turns an answer into an exception.

    To a plain ``logging.Logger`` the record goes as ``logger.info(message, extra=fields)``
    (or ``warning``, ``error``) would send it, built without the frame walk ``logging`` does to
    find the caller, which is always this function: the same record (its ``pathname``,
    ``funcName`` and ``lineno`` say ``emit`` in this file), the same filters and handlers.
    """
    if level >= logging.ERROR:
        level = logging.ERROR
    elif level >= logging.WARNING:
        level = logging.WARNING
    else:
        level = logging.INFO
    with contextlib.suppress(Exception):
        if type(logger) is logging.Logger and logging._srcfile:
            if logger.isEnabledFor(level):  # what info/warning/error check first
                line = sys._getframe().f_lineno
                record = logger.makeRecord(
                    logger.name, level, _HERE, line, message, (), None, "emit", fields
                )
                logger.handle(record)
        elif level == logging.ERROR:
            logger.error(message, extra=fields)
        elif level == logging.WARNING:
            logger.warning(message, extra=fields)
        else:
            logger.info(message, extra=fields)


# The file `emit` is in, as findCaller names it (logging.Logger subclasses and other loggers
# go through their own info/warning/error, which find the caller themselves).
_HERE: Final = os.path.normcase(emit.__code__.co_filename)


def quiet_aws_loggers(environ: Mapping[str, str] = os.environ) -> None:
    """Keep the AWS SDK's loggers (botocore, boto3, urllib3, s3transfer) at INFO or above.

    At DEBUG, botocore logs every request and response body: the task token of each
    ``SendTask*`` call, the plaintext data keys of KMS ``GenerateDataKey``/``Decrypt``, the MACs
    that derived keys are, and decrypted keyrings. A root logger at DEBUG (a common Lambda
    setting) would send them all to CloudWatch. The ready handlers and ``serve`` call this on
    every invocation; call it in your own handler if you log at DEBUG. Setting
    ``SFN_CALLBACK_URLS_DEBUG_AWS=true`` is the explicit opt-out: the levels are left alone.
    """
    loggers = _aws_loggers or _get_aws_loggers()
    # Every invocation: nearly free when they are all at INFO or above (the usual case).
    if all(aws_logger.getEffectiveLevel() >= logging.INFO for aws_logger in loggers):
        return
    if flag(environ, ENV_DEBUG_AWS):
        return
    for aws_logger in loggers:
        if aws_logger.getEffectiveLevel() < logging.INFO:
            aws_logger.setLevel(logging.INFO)


# The AWS SDK's loggers, looked up once (logging keeps one object per name for good).
_aws_loggers: tuple[logging.Logger, ...] = ()


def _get_aws_loggers() -> tuple[logging.Logger, ...]:
    global _aws_loggers  # a cache of logging's own singletons
    _aws_loggers = tuple(logging.getLogger(name) for name in _AWS_LOGGERS)
    return _aws_loggers


# --- a third party's records, dropped where they would repeat what an attacker wrote -------------

#: The logger-name prefixes `silenced` is active for in the current context (thread or task).
_silencing: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "sfn_callback_urls_silencing", default=frozenset()
)
_filtered: dict[str, int] = {}  # prefix -> size of logging's registry when last filtered
_filter_lock = threading.Lock()


class _DropWhileSilenced(logging.Filter):
    """Drops a record when `silenced` is active for its logger's prefix in this context."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return self._prefix not in _silencing.get()


def _install_filters(prefix: str) -> None:
    """Put the filter on every logger named ``prefix`` or below it (once each).

    Filters on a logger see only the records logged on that logger, not its children's, so
    each one gets its own; loggers made since the last call (a module imported later) too.
    """
    registry = logging.Logger.manager.loggerDict
    if _filtered.get(prefix) == len(registry):
        return
    with _filter_lock:
        for name, item in list(registry.items()):
            if (
                isinstance(item, logging.Logger)
                and (name == prefix or name.startswith(prefix + "."))
                and not any(isinstance(f, _DropWhileSilenced) for f in item.filters)
            ):
                item.addFilter(_DropWhileSilenced(prefix))
        _filtered[prefix] = len(registry)


@contextlib.contextmanager
def silenced(prefix: str) -> Iterator[None]:
    """Drop the records of the loggers named ``prefix`` (and below) logged inside the block.

    Only in the current thread (or asyncio task): the same library used elsewhere in the
    process logs as configured. For a library whose records, on input anyone can forge, carry
    that input or a traceback (aws-encryption-sdk logs the message's encryption context at
    INFO and a traceback at ERROR for every refused data key): the caller logs its own
    record instead.
    """
    _install_filters(prefix)
    token = _silencing.set(_silencing.get() | {prefix})
    try:
        yield
    finally:
        _silencing.reset(token)
