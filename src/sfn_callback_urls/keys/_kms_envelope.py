"""`KmsEnvelopeKey`: envelope encryption under an ordinary symmetric KMS key."""

from __future__ import annotations

from ..errors import InvalidPayload
from ._aws import (
    ENCRYPTION_CONTEXT_KEY,
    INVALID_CIPHERTEXT_CODES,
    KmsKey,
    error_code,
    is_aws_error,
    key_unavailable,
)

__all__ = ["KmsEnvelopeKey"]

_SECRET_LENGTH = 32


class KmsEnvelopeKey(KmsKey):
    """Envelope encryption under an ordinary symmetric KMS key (``SYMMETRIC_DEFAULT``).

    Minting calls ``GenerateDataKey`` (AES_256, encryption context
    ``{"sfn-callback-urls:purpose": purpose}``); the KMS-encrypted data key (about 185 bytes on
    AWS, so about 250 URL characters) rides in every blob. Opening calls ``Decrypt`` with the same
    key id and context. Both sides cache, so KMS sees one call per data key, not per token.

    Minter and handler must configure the same ``key_id`` string (a key id, key ARN, alias name or
    alias ARN), or the same explicit ``wire_id``: the blob names its key by a hash of that string.
    ``Decrypt`` is pinned to ``key_id``, so a header encrypted under any other KMS key is refused.
    Repointing an alias therefore invalidates outstanding URLs; rotate with KMS automatic key
    rotation, or by putting a new key first in a `Keyring`.

    Args:
        key_id: the KMS key id, ARN or alias.
        client: a boto3 KMS client; by default one is built on first use from ``session``.
        session: a boto3 session for that client (default: the process's botocore
            session, shared by all our clients).
        wire_id: the key id written into blobs (1 to 32 bytes); by default the first 4 bytes of
            SHA-256 over a fixed prefix and ``key_id``.
        max_age: how long a data key is used for minting, and how long a decrypted one is kept
            (so disabling the KMS key stops warm handlers within ``max_age``).
        max_uses: how many blobs one data key mints before a new one is generated.
        cache_size: how many decrypted data keys the handling side keeps (LRU).
        clock: monotonic seconds, for the cache limits; tests pass a fake.
    """

    __slots__ = ()
    _ID_PREFIX = b"sfn-callback-urls/kms-envelope-key-id\x00"
    _OPERATIONS = ("GenerateDataKey", "Decrypt")

    def _new_data_key(self, purpose: str) -> tuple[bytes, bytes]:
        try:
            response = self.client.generate_data_key(
                KeyId=self._key_id,
                KeySpec="AES_256",
                EncryptionContext={ENCRYPTION_CONTEXT_KEY: purpose},
            )
        except Exception as error:
            if is_aws_error(error):
                raise key_unavailable("GenerateDataKey", error) from error
            raise
        return response["CiphertextBlob"], response["Plaintext"]

    def _check_header(self, key_header: bytes) -> None:
        if not key_header:
            raise InvalidPayload

    def _recover_secret(self, key_header: bytes, purpose: str) -> bytes:
        try:
            response = self.client.decrypt(
                CiphertextBlob=key_header,
                KeyId=self._key_id,
                EncryptionContext={ENCRYPTION_CONTEXT_KEY: purpose},
            )
        except Exception as error:
            if not is_aws_error(error):
                raise
            if error_code(error) in INVALID_CIPHERTEXT_CODES:
                raise InvalidPayload from None
            raise key_unavailable("Decrypt", error) from error
        secret = response["Plaintext"]
        if len(secret) != _SECRET_LENGTH:
            # Only a ciphertext of something other than an AES_256 data key gets here.
            raise InvalidPayload
        return secret
