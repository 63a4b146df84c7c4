"""Structured log records: one per mint and one per callback, their fields as real fields.

A record's fields go in ``extra``, so they become attributes of the ``LogRecord``: Lambda's JSON
log format, Powertools' ``Logger`` and any JSON formatter put them at the top level, where
CloudWatch Logs Insights can filter on them (``docs/deploy.md`` has the queries). The message is
one human-readable line. No field ever holds a task token, key material, a blob or a query
string: the callers build records from names, ids, codes and statuses only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Protocol

__all__ = ["LoggerLike", "emit", "enabled", "get_logger"]


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
    """Whether a record at ``level`` would be emitted (always true for non-stdlib loggers)."""
    check = getattr(logger, "isEnabledFor", None)
    return True if check is None else bool(check(level))


def emit(logger: LoggerLike, level: int, message: str, fields: Mapping[str, object]) -> None:
    """Log one record; a broken logging set-up never turns an answer into an exception."""
    with contextlib.suppress(Exception):
        if level >= logging.ERROR:
            logger.error(message, extra=fields)
        elif level >= logging.WARNING:
            logger.warning(message, extra=fields)
        else:
            logger.info(message, extra=fields)
