"""Time as the library reads and writes it: aware UTC, whole wire seconds, ``...Z`` text."""

from __future__ import annotations

from datetime import datetime, timezone

from .errors import InvalidRequest

__all__ = [
    "MAX_TIMESTAMP",
    "as_utc",
    "checked_now",
    "format_utc",
    "is_aware",
    "utcnow",
    "wire_seconds",
    "wire_time",
]

#: Timestamps travel as unsigned 32-bit seconds: anything after 2106-02-07 cannot be sealed.
MAX_TIMESTAMP = 2**32 - 1


def utcnow() -> datetime:
    """The wall clock, timezone-aware UTC. Everything that needs time takes ``now=`` instead."""
    return datetime.now(timezone.utc)


def is_aware(value: datetime) -> bool:
    """Whether ``value`` has a UTC offset: a ``tzinfo`` that answers one, not just any."""
    return value.tzinfo is not None and value.utcoffset() is not None


def as_utc(value: datetime) -> datetime | None:
    """An aware ``value`` in UTC (itself when it is already); ``None`` if naive or out of range.

    Out of range: ``0001-01-01T00:00:00+01:00``, say, has no UTC equivalent.
    """
    if value.tzinfo is timezone.utc:  # the usual case: nothing to convert
        return value
    if not is_aware(value):
        return None
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        return None


def checked_now(now: datetime | None) -> datetime:
    """``now`` as a caller passed it, or the wall clock when ``None``.

    Raises:
        ValueError: ``now`` is not a timezone-aware datetime (a caller's mistake, not input).
    """
    if now is None:
        return datetime.now(timezone.utc)
    if not (isinstance(now, datetime) and is_aware(now)):
        raise ValueError("now must be a timezone-aware datetime")
    return now


def format_utc(value: datetime) -> str:
    """ISO 8601 text of an aware datetime in UTC with a ``Z`` suffix, e.g. ``2026-11-25T10:00:00Z``.

    Fractional seconds are kept only when non-zero.
    """
    text = value.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def wire_seconds(name: str, value: datetime) -> int:
    """``value`` as the blob stores it: whole seconds since the epoch, UTC, within 1970..2106.

    Raises:
        InvalidRequest: ``value`` is naive or out of range (the message names ``name``).
    """
    if value.tzinfo is not timezone.utc and not is_aware(value):
        raise InvalidRequest(f"{name}: must be timezone-aware")
    # int() truncates toward zero: the floor for every time it lets through. 0 is the wire's
    # "no expiry", so a time must be at least 1 s after the epoch.
    seconds = int(value.timestamp())
    if not 1 <= seconds <= MAX_TIMESTAMP:
        raise InvalidRequest(f"{name}: must lie between 1970 and 2106")
    return seconds


def wire_time(name: str, value: datetime) -> datetime:
    """``value`` as a blob carries it: `wire_seconds` as a UTC datetime (whole seconds).

    Raises:
        InvalidRequest: as `wire_seconds`.
    """
    return datetime.fromtimestamp(wire_seconds(name, value), timezone.utc)
