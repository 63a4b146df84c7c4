"""KMS-wrapped local keyrings: local keys stored encrypted under KMS, decrypted once."""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._aws import (
    ENCRYPTION_CONTEXT_KEY,
    INVALID_CIPHERTEXT_CODES,
    error_code,
    is_aws_error,
    key_unavailable,
    make_client,
)
from ._base import KeyBackend
from ._keyring import Keyring
from ._local import LocalKey

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "WRAPPED_KEYRING_PREFIX",
    "load_wrapped_cached",
    "load_wrapped_keyring",
    "wrap_keyring",
]

#: Prefix of the strings `wrap_keyring()` writes.
WRAPPED_KEYRING_PREFIX = "sfncukms1_"

_WRAPPED_PURPOSE = "local-keyring"
_WRAPPED_CACHE_SIZE = 16
_WRAPPED_CONTEXT = {ENCRYPTION_CONTEXT_KEY: _WRAPPED_PURPOSE}


def _keyring_text(keys: str | LocalKey | Iterable[KeyBackend]) -> str:
    if isinstance(keys, str):
        text = keys.strip()
        Keyring.from_string(text)  # refuse to wrap something that will not load
        return text
    parts = []
    for key in [keys] if isinstance(keys, LocalKey) else keys:
        if not isinstance(key, LocalKey):
            raise ConfigurationError("Only local keys can be wrapped.")
        parts.append(key.to_string())
    if not parts:
        raise ConfigurationError("The keyring to wrap holds no key.")
    return ",".join(parts)


def wrap_keyring(
    keys: str | LocalKey | Iterable[KeyBackend],
    kms_key_id: str,
    *,
    client: KMSClient | None = None,
    session: Session | None = None,
) -> str:
    """Encrypt local keys under a KMS key into one copy-pasteable string (``sfncukms1_...``).

    Store the result in ``SFN_CALLBACK_URLS_WRAPPED_KEY`` or an SSM parameter; only principals
    allowed ``kms:Decrypt`` on ``kms_key_id`` can load it back with `load_wrapped_keyring()`.

    Args:
        keys: a keyring string (``sfncu1_...,sfncu1_...``, primary first), a `LocalKey`,
            or local keys (primary first).
        kms_key_id: the symmetric KMS key to encrypt under (id, ARN or alias).
        client: a boto3 KMS client (default: one from ``session``).
        session: a boto3 session for that client (default: the process's botocore
            session, shared by all our clients).

    Raises:
        ConfigurationError: ``keys`` is not a valid keyring.
        KeyUnavailable: KMS ``Encrypt`` failed.
    """
    plaintext = _keyring_text(keys).encode("utf-8")
    kms = client if client is not None else make_client("kms", session)
    try:
        response = kms.encrypt(
            KeyId=kms_key_id, Plaintext=plaintext, EncryptionContext=_WRAPPED_CONTEXT
        )
    except Exception as error:
        if is_aws_error(error):
            raise key_unavailable("Encrypt", error) from error
        raise
    encoded = base64.urlsafe_b64encode(response["CiphertextBlob"]).rstrip(b"=").decode("ascii")
    return WRAPPED_KEYRING_PREFIX + encoded


def load_wrapped_keyring(
    text: str,
    *,
    kms_key_id: str | None = None,
    client: KMSClient | None = None,
    session: Session | None = None,
) -> Keyring:
    """Decrypt a string written by `wrap_keyring()` (one KMS call) into a keyring of local keys.

    Do it once per process and keep the result: blobs then cost what local-key blobs cost.

    Args:
        text: the ``sfncukms1_...`` string.
        kms_key_id: if given, ``Decrypt`` refuses a string wrapped under any other KMS key.
        client: a boto3 KMS client (default: one from ``session``).
        session: a boto3 session for that client (default: the process's botocore
            session, shared by all our clients).

    Raises:
        ConfigurationError: the string is damaged or was not wrapped by `wrap_keyring()`
            (the message never echoes it).
        KeyUnavailable: KMS ``Decrypt`` failed (denied access, disabled key, outage, ...).
    """
    text = text.strip()
    if not text.startswith(WRAPPED_KEYRING_PREFIX):
        raise ConfigurationError(
            f"A wrapped keyring string starts with {WRAPPED_KEYRING_PREFIX!r}."
        )
    body = text[len(WRAPPED_KEYRING_PREFIX) :]
    try:
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ConfigurationError("The wrapped keyring string is damaged (bad encoding).") from None
    if not blob:
        raise ConfigurationError("The wrapped keyring string is damaged (empty).")
    kms = client if client is not None else make_client("kms", session)
    arguments: dict[str, Any] = {"CiphertextBlob": blob, "EncryptionContext": _WRAPPED_CONTEXT}
    if kms_key_id is not None:
        arguments["KeyId"] = kms_key_id
    try:
        response = kms.decrypt(**arguments)
    except Exception as error:
        if not is_aws_error(error):
            raise
        if error_code(error) in INVALID_CIPHERTEXT_CODES:
            raise ConfigurationError(
                "The wrapped keyring string is damaged or was wrapped under another KMS key "
                f"({error_code(error)})."
            ) from None
        raise key_unavailable("Decrypt", error) from error
    try:
        plain = response["Plaintext"].decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError("The wrapped keyring does not hold local keys.") from None
    return Keyring.from_string(plain)


_wrapped_cache: OrderedDict[str, Keyring] = OrderedDict()
_wrapped_lock = threading.Lock()


def load_wrapped_cached(text: str, client: KMSClient | None, session: Session | None) -> Keyring:
    """`load_wrapped_keyring()` once per process and string (failures are not kept)."""
    # Keyed by the text alone: a ciphertext decrypts to one plaintext, whoever decrypts it.
    # Failures are not cached, so a KMS outage at cold start heals on the next call.
    text = text.strip()
    with _wrapped_lock:
        keyring = _wrapped_cache.get(text)
        if keyring is not None:
            _wrapped_cache.move_to_end(text)
            return keyring
    keyring = load_wrapped_keyring(text, client=client, session=session)
    with _wrapped_lock:
        _wrapped_cache[text] = keyring
        while len(_wrapped_cache) > _WRAPPED_CACHE_SIZE:
            _wrapped_cache.popitem(last=False)
    return keyring
