"""What a blob carries, and the checks on it once it is authentic."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ._models import Action
from ._time import wire_time
from .errors import ExpiredPayload, InvalidRequest

__all__ = [
    "Claims",
    "is_transaction_id",
    "new_transaction_id",
    "uuid_text",
]

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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
        # A frozen dataclass refuses setattr; filling __dict__ at once is also the fastest way
        # (the minter builds one per URL).
        self.__dict__.update(
            {
                "token": token,
                "action": action,
                "transaction_id": transaction_id,
                "issued_at": issued_at,
                "expires_at": expires_at,
                "output_parameters": output_parameters,
            }
        )
        return self

    def check_expiry(self, now: datetime, leeway: timedelta) -> None:
        """Raise `ExpiredPayload` if ``now`` is past the expiry by more than ``leeway``."""
        if self.expires_at is not None and now > self.expires_at + leeway:
            raise ExpiredPayload(expired_at=self.expires_at, claims=self)
