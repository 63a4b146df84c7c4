"""What a blob carries, and the checks on it once it is authentic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .errors import ExpiredPayload, InvalidRequest

if TYPE_CHECKING:
    from .models import Action

__all__ = ["MAX_TIMESTAMP", "Claims", "new_transaction_id", "utcnow"]

#: Timestamps travel as unsigned 32-bit seconds: anything after 2106-02-07 cannot be sealed.
MAX_TIMESTAMP = 2**32 - 1


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
            value = value.astimezone(timezone.utc).replace(microsecond=0)
            # 0 is the wire's "no expiry", so an expiry must be at least 1 s after the epoch.
            if not 1 <= int(value.timestamp()) <= MAX_TIMESTAMP:
                raise InvalidRequest(f"{name}: must lie between 1970 and 2106")
            object.__setattr__(self, name, value)
        try:
            uuid.UUID(self.transaction_id)
        except (ValueError, TypeError, AttributeError):
            raise InvalidRequest("transaction_id: must be a UUID") from None

    def check_expiry(self, now: datetime, leeway: timedelta) -> None:
        """Raise :class:`ExpiredPayload` if ``now`` is past the expiry by more than ``leeway``."""
        if self.expires_at is not None and now > self.expires_at + leeway:
            raise ExpiredPayload(expired_at=self.expires_at)
