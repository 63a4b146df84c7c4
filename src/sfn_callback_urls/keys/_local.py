"""Local keys: a 256-bit secret you keep in an environment variable or a secrets manager."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from ..errors import ConfigurationError, InvalidPayload
from ._base import DataKey

__all__ = ["LocalKey"]

_PREFIX = "sfncu1_"
_KEY_ID_LENGTH = 4
_SECRET_LENGTH = 32
_CHECK_LENGTH = 3


class LocalKey:
    """A key held in process memory. Blobs sealed with it carry only its 4-byte key id.

    Create one with `generate()`, store `to_string()` somewhere safe, and load it back
    with `from_string()`. The string is one copy-pasteable word (``sfncu1_...``) holding the
    key id, the secret and a checksum that catches copy-paste damage.
    """

    __slots__ = ("_data_key", "_key_id", "_secret")

    def __init__(self, secret: bytes, *, key_id: bytes | None = None) -> None:
        if len(secret) != _SECRET_LENGTH:
            raise ConfigurationError("A local key secret must be exactly 32 bytes.")
        if key_id is None:
            # Not secret, but deterministic so the same secret always gets the same id.
            key_id = hashlib.sha256(b"sfn-callback-urls/key-id" + secret).digest()[:_KEY_ID_LENGTH]
        if not 1 <= len(key_id) <= 32:
            raise ConfigurationError("A key id must be 1 to 32 bytes long.")
        self._secret = bytes(secret)
        self._key_id = bytes(key_id)
        self._data_key = DataKey(self._secret)

    @classmethod
    def generate(cls) -> LocalKey:
        """A new key from the operating system's CSPRNG with a random key id."""
        return cls(os.urandom(_SECRET_LENGTH), key_id=os.urandom(_KEY_ID_LENGTH))

    @classmethod
    def from_string(cls, text: str) -> LocalKey:
        """Load a key written by `to_string()`.

        Raises:
            ConfigurationError: the string is not a key (the message never echoes it).
        """
        text = text.strip()
        if not text.startswith(_PREFIX):
            raise ConfigurationError(f"A local key string starts with {_PREFIX!r}.")
        body = text[len(_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise ConfigurationError("The local key string is damaged (bad encoding).") from None
        if len(raw) != _KEY_ID_LENGTH + _SECRET_LENGTH + _CHECK_LENGTH:
            raise ConfigurationError("The local key string is damaged (wrong length).")
        payload, check = raw[:-_CHECK_LENGTH], raw[-_CHECK_LENGTH:]
        if not hmac.compare_digest(_checksum(payload), check):
            raise ConfigurationError("The local key string is damaged (checksum mismatch).")
        return cls(payload[_KEY_ID_LENGTH:], key_id=payload[:_KEY_ID_LENGTH])

    def to_string(self) -> str:
        """The key as one copy-pasteable string. It is the secret: store it like a password."""
        payload = self._key_id + self._secret
        if len(self._key_id) != _KEY_ID_LENGTH:
            raise ConfigurationError("Only keys with a 4-byte key id can be written as a string.")
        return _PREFIX + base64.urlsafe_b64encode(payload + _checksum(payload)).decode("ascii")

    @property
    def key_id(self) -> bytes:
        """The key id written into every blob this key seals."""
        return self._key_id

    def mint_key(self, purpose: str) -> tuple[bytes, DataKey]:
        """A local key needs no header: the key id alone names it."""
        return b"", self._data_key

    def open_key(self, key_header: bytes, purpose: str) -> DataKey:
        """The one data key; a non-empty header cannot come from us."""
        if key_header:
            raise InvalidPayload
        return self._data_key

    def __repr__(self) -> str:
        return f"LocalKey(key_id={self._key_id.hex()!r}, secret=<redacted>)"


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()[:_CHECK_LENGTH]
