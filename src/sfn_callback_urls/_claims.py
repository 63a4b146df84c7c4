"""What a blob carries, and the checks on it once it is authentic."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .errors import ExpiredPayload, InvalidRequest

if TYPE_CHECKING:
    from ._models import Action

__all__ = [
    "MAX_TIMESTAMP",
    "Claims",
    "checked_now",
    "is_aware",
    "is_transaction_id",
    "new_transaction_id",
    "utcnow",
    "uuid_text",
    "wire_seconds",
    "wire_time",
]

#: Timestamps travel as unsigned 32-bit seconds: anything after 2106-02-07 cannot be sealed.
MAX_TIMESTAMP = 2**32 - 1
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def utcnow() -> datetime:
    """The wall clock, timezone-aware UTC. Everything that needs time takes ``now=`` instead."""
    return datetime.now(timezone.utc)


def is_aware(value: datetime) -> bool:
    """Whether ``value`` has a UTC offset: a ``tzinfo`` that answers one, not just any."""
    return value.tzinfo is not None and value.utcoffset() is not None


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


def new_transaction_id() -> str:
    """A fresh random transaction id (a UUID4 string, as the original app returned)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return uuid_text(raw)


def uuid_text(raw: bytes | bytearray) -> str:
    """16 bytes as a UUID's canonical text (lower-case hex, dashed 8-4-4-4-12)."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_transaction_id(value: object) -> bool:
    """Whether ``value`` is a transaction id we mint: a UUID string in its canonical form."""
    return isinstance(value, str) and len(value) == 36 and bool(_UUID_RE.fullmatch(value))


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


@dataclass(frozen=True)
class Claims:
    """The verified contents of a blob.

    Attributes:
        token: the Step Functions task token. A secret: never log it.
        action: the sealed action (its name and type are what the URL's query must match).
        transaction_id: the id shared by every URL minted in one call, for correlation.
        issued_at: when the blob was minted (UTC, whole seconds).
        expires_at: when it stops being accepted (UTC, whole seconds), or ``None``.
        output_parameters: whether query parameters may be substituted into the output.
    """

    token: str = field(repr=False)
    action: Action
    transaction_id: str
    issued_at: datetime
    expires_at: datetime | None = None
    output_parameters: bool = False

    def __post_init__(self) -> None:
        for name in ("issued_at", "expires_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, wire_time(name, value))
        if not is_transaction_id(self.transaction_id):
            raise InvalidRequest("transaction_id: must be a UUID in its canonical form")

    @classmethod
    def trusted(
        cls,
        token: str,
        action: Action,
        transaction_id: str,
        issued_at: datetime,
        expires_at: datetime | None,
        output_parameters: bool,
    ) -> Claims:
        """Claims whose fields are valid by construction: no check is repeated.

        For an authenticated blob's fields, or the minter's own after its checks.
        """
        self = object.__new__(cls)
        # A frozen dataclass refuses setattr; filling __dict__ at once is also the fastest way.
        self.__dict__.update(
            token=token,
            action=action,
            transaction_id=transaction_id,
            issued_at=issued_at,
            expires_at=expires_at,
            output_parameters=output_parameters,
        )
        return self

    def check_expiry(self, now: datetime, leeway: timedelta) -> None:
        """Raise `ExpiredPayload` if ``now`` is past the expiry by more than ``leeway``."""
        if self.expires_at is not None and now > self.expires_at + leeway:
            raise ExpiredPayload(expired_at=self.expires_at, claims=self)
