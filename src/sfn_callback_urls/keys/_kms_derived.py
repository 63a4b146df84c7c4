"""`KmsDerivedKey`: data keys derived from a KMS HMAC key, only a salt in the blob."""

from __future__ import annotations

import os
import struct

from ..errors import ConfigurationError, InvalidPayload
from ._aws import KmsKey, is_aws_error, key_unavailable

__all__ = ["KmsDerivedKey"]

_MESSAGE_PREFIX = b"sfn-callback-urls/v1/kms-derived-data-key\x00"
_SALT_LENGTH = 16
_SECRET_LENGTH = 32
_MAX_MAC_MESSAGE = 4096  # GenerateMac's limit on Message


class KmsDerivedKey(KmsKey):
    """Data keys derived from a KMS HMAC key (``HMAC_256``, ``GENERATE_VERIFY_MAC``).

    Minting draws a random 16-byte salt and sets the data key to ``GenerateMac(HMAC_SHA_256)``
    over a fixed domain prefix, the purpose and the salt. Only the salt rides in the blob, so
    URLs are about 22 characters longer than with a local key. Opening repeats ``GenerateMac``
    on the blob's salt. Both sides cache, so KMS sees one call per salt, not per token.

    Minter and handler must configure the same ``key_id`` string (or the same explicit
    ``wire_id``). Repointing an alias changes every derived key and invalidates outstanding URLs;
    HMAC keys have no automatic rotation, so rotate with a `Keyring`.

    Arguments are those of `KmsEnvelopeKey`.
    """

    __slots__ = ()
    _ID_PREFIX = b"sfn-callback-urls/kms-derived-key-id\x00"
    _OPERATIONS = ("GenerateMac",)

    def _new_data_key(self, purpose: str) -> tuple[bytes, bytes]:
        salt = os.urandom(_SALT_LENGTH)
        return salt, self._derive(salt, purpose)

    def _check_header(self, key_header: bytes) -> None:
        # Refused before KMS is called: a wrong-sized salt costs nothing.
        if len(key_header) != _SALT_LENGTH:
            raise InvalidPayload

    def _recover_secret(self, key_header: bytes, purpose: str) -> bytes:
        return self._derive(key_header, purpose)

    def _derive(self, salt: bytes, purpose: str) -> bytes:
        purpose_bytes = purpose.encode("utf-8")
        # Length-prefixed purpose, fixed-length salt: no two (purpose, salt) share a message.
        message = _MESSAGE_PREFIX + struct.pack(">H", len(purpose_bytes)) + purpose_bytes + salt
        if len(message) > _MAX_MAC_MESSAGE:
            raise ConfigurationError("The purpose is too long for a KMS derived key.")
        try:
            response = self.client.generate_mac(
                KeyId=self._key_id, MacAlgorithm="HMAC_SHA_256", Message=message
            )
        except Exception as error:
            if is_aws_error(error):
                raise key_unavailable("GenerateMac", error) from error
            raise
        mac = response["Mac"]
        if len(mac) != _SECRET_LENGTH:
            raise ConfigurationError("A KMS derived key needs an HMAC_256 key (a 32-byte MAC).")
        return mac
