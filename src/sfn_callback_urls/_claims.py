"""What a blob carries, and the checks on it once it is authentic."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .errors import ExpiredPayload, InvalidRequest

if TYPE_CHECKING:
    from ._models import Action

__all__ = ["MAX_TIMESTAMP", "Claims", "new_transaction_id", "utcnow"]

#: Timestamps travel as unsigned 32-bit seconds: anything after 2106-02-07 cannot be sealed.
MAX_TIMESTAMP = 2**32 - 1
_MIN_TIME = datetime.fromtimestamp(1, timezone.utc)
_MAX_TIME = datetime.fromtimestamp(MAX_TIMESTAMP, timezone.utc)
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def utcnow() -> datetime:
    """The wall clock, timezone-aware UTC. Everything that needs time takes ``now=`` instead."""
    return datetime.now(timezone.utc)


def new_transaction_id() -> str:
    """A fresh random transaction id (a UUID4 string, as the original app returned)."""
    return str(uuid.uuid4())


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
            if value is None:
                continue
            if value.tzinfo is None:
                raise InvalidRequest(f"{name}: must be timezone-aware")
            if value.tzinfo is not timezone.utc or value.microsecond:
                value = value.astimezone(timezone.utc).replace(microsecond=0)
                object.__setattr__(self, name, value)
            # 0 is the wire's "no expiry", so an expiry must be at least 1 s after the epoch.
            if not _MIN_TIME <= value <= _MAX_TIME:
                raise InvalidRequest(f"{name}: must lie between 1970 and 2106")
        tid = self.transaction_id
        if not isinstance(tid, str) or len(tid) != 36 or not _UUID_RE.fullmatch(tid):
            raise InvalidRequest("transaction_id: must be a UUID in its canonical form")

    @classmethod
    def _trusted(
        cls,
        token: str,
        action: Action,
        transaction_id: str,
        issued_at: datetime,
        expires_at: datetime | None,
        output_parameters: bool,
    ) -> Claims:
        """Build claims from an authenticated blob: its fields are valid by construction."""
        self = object.__new__(cls)
        set_field = object.__setattr__
        set_field(self, "token", token)
        set_field(self, "action", action)
        set_field(self, "transaction_id", transaction_id)
        set_field(self, "issued_at", issued_at)
        set_field(self, "expires_at", expires_at)
        set_field(self, "output_parameters", output_parameters)
        return self

    def check_expiry(self, now: datetime, leeway: timedelta) -> None:
        """Raise `ExpiredPayload` if ``now`` is past the expiry by more than ``leeway``."""
        if self.expires_at is not None and now > self.expires_at + leeway:
            raise ExpiredPayload(expired_at=self.expires_at, claims=self)
