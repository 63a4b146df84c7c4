"""The seam between the codec and where keys come from.

A key backend turns "I want to mint" into ``(key_header, DataKey)`` and "I want to open a blob
whose key header is H" into a `DataKey`. The codec does all the cryptography with the
data key; backends only produce and recover 32-byte secrets:

- a local key has an empty header and one fixed secret;
- KMS envelope keys put the KMS-encrypted data key in the header;
- KMS derived keys put a random salt in the header and derive the secret with ``GenerateMac``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["DataKey", "KeyBackend"]

_INFO_ENCRYPT = b"sfn-callback-urls/v1/encrypt"
_INFO_SIGN = b"sfn-callback-urls/v1/sign"


class DataKey:
    """A 32-byte secret and the two keys derived from it, one per mode.

    Deriving separate keys for encryption and signing (HKDF-SHA256 with distinct ``info``) means
    a blob sealed in one mode can never verify in the other, even under the same secret.
    Instances are immutable and safe to share between threads; backends cache them.
    """

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("a data key must be 32 bytes")
        self._aead = AESGCMSIV(_hkdf(secret, _INFO_ENCRYPT))
        self._mac_key = _hkdf(secret, _INFO_SIGN)

    @property
    def aead(self) -> AESGCMSIV:
        """The AES-256-GCM-SIV cipher for encrypted mode."""
        return self._aead

    def mac(self, data: bytes) -> bytes:
        """The full HMAC-SHA256 of ``data`` under the signing key."""
        return hmac.new(self._mac_key, data, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "DataKey(<redacted>)"


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


@runtime_checkable
class KeyBackend(Protocol):
    """Where data keys come from. Implement it to plug in another key store.

    ``key_id`` is written into every blob the backend mints, so a `Keyring` can pick
    the backend that opens a blob. Both methods must be thread-safe.
    """

    @property
    def key_id(self) -> bytes:
        """A short identifier (1 to 32 bytes) unique within a keyring; not secret."""
        ...

    def mint_key(self, purpose: str) -> tuple[bytes, DataKey]:
        """Return ``(key_header, data_key)`` for a new blob bound to ``purpose``.

        ``key_header`` (at most 255 bytes) travels in the blob in the clear, authenticated.
        """
        ...

    def open_key(self, key_header: bytes, purpose: str) -> DataKey:
        """Recover the data key of a blob from its ``key_header``.

        Raise `InvalidPayload` when the header cannot be
        valid, `KeyUnavailable` when the key store fails.
        """
        ...
