"""Read-only opening of the original app's ``2-`` callback URLs, for an in-place upgrade.

The original sfn-callback-urls app put this in a callback URL's ``data`` (v1.0.0; v1.1.0 pinned
aws-encryption-sdk 2.0.0, which dropped the API it called, so it encrypted only once patched)::

    "2-" + base64url(aws-encryption-sdk message)     # padded base64url ('=' as %3D in the URL)

The message is encrypted with a data key from ``GenerateDataKey`` under the stack's KMS key
(``KEY_ID``), no encryption context of its own, the SDK's default algorithm suite (1.x:
AES-256-GCM + HKDF-SHA384 + ECDSA P-384, not key-committing), and its plaintext is the JSON
object ``{"token", "iat", "tid", "iss"?, "exp"?, "action", "param"?}``: ``iat``/``exp`` are
epoch seconds, ``tid`` is the transaction id (32 hex digits), ``action`` the action exactly as
the create-URLs request gave it and ``param`` says whether output parameters apply.

`OriginalUrlOpener` turns such a blob into our `Claims`, so the handler completes it as the
original would have. It never mints: new URLs are always in our own format. Its rules:

- Decryption is the real aws-encryption-sdk (the ``original`` extra), with the commitment policy
  ``REQUIRE_ENCRYPT_ALLOW_DECRYPT`` (the 1.x SDK wrote non-committing messages), at most one
  encrypted data key, and a single `KMSMasterKey` for the one configured key ARN: a data key
  wrapped by any other key is refused before KMS is called (no discovery, ever).
- The purpose binding is the encryption context the original wrote: none of its own, with
  the SDK's default (signing) suite, so the message's context is exactly the SDK's signing
  key, ``aws-crypto-public-key``, and nothing else. A message made under another context
  (another application sharing the key) is refused before KMS is called. So is a data key
  of a size KMS never wrote (empty, or over KMS's 6,144-byte ciphertext limit).
- Before the message is authenticated every failure is the same `InvalidPayload`: not ``2-``,
  the unencrypted ``1-`` format (never accepted: anyone could write one), bad base64, another
  key, tampered bytes, any SDK exception. Oversized blobs are refused (`PayloadTooLarge`) before
  anything is decoded. KMS itself failing (throttled, disabled key, unreachable) is
  `KeyUnavailable`, as for our own KMS keys; KMS calling the data key invalid (or refusing it
  as malformed), or denying access to the key it names, is the URL's fault (`InvalidPayload`).
- A message refused before authentication is remembered (by digest) for 60 seconds, by the
  rule our own KMS keys follow: replaying one forged URL costs one KMS call a minute.
- The SDK's own log records during a decryption are dropped (`silenced`): for any forged
  message it logs the attacker's encryption context at INFO and a traceback at ERROR. A
  refused URL is the handler's one record; the reason is logged here at DEBUG.
- After authentication the action is mapped field by field from the original's JSON schema:
  fields the original ignored are dropped, ``redirect`` wins over ``json``/``html``/``text`` (the
  original never rendered those next to a redirect), and a POST outcome's JSON Schema without
  ``$schema`` is pinned to draft 7 (the default of the jsonschema 3.x the original ran). What our
  models still refuse (a non-ASCII name, say) is `InvalidPayload` with its own message.
- Nothing secret is cached: each open costs one KMS ``Decrypt``, as it did in the original.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._claims import Claims
from ._codec import DEFAULT_LEEWAY
from ._deadline import DeadlineExceeded
from ._logging import silenced
from ._models import Action
from ._time import checked_now
from ._validation import parse_action
from .errors import (
    ConfigurationError,
    InvalidPayload,
    InvalidRequest,
    PayloadTooLarge,
)
from .keys._aws import INVALID_CIPHERTEXT_CODES, LazyKmsClient, aws_error_code, key_unavailable
from .keys._cached import REFUSED_CACHE_SIZE, REFUSED_TTL_SECONDS, RefusedHeaders

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "DEFAULT_MAX_ORIGINAL_BLOB_LENGTH",
    "ORIGINAL_ENCRYPTED_PREFIX",
    "ORIGINAL_UNENCRYPTED_PREFIX",
    "OriginalUrlOpener",
    "is_original_blob",
    "require_sdk",
]

#: The format id the original put before its encrypted blobs.
ORIGINAL_ENCRYPTED_PREFIX = "2-"
#: The format id of the original's unencrypted blobs: refused, with or without the opt-in.
ORIGINAL_UNENCRYPTED_PREFIX = "1-"
#: Longest ``data`` accepted: the original's API Gateway (REST) took URLs of at most 10,240
#: characters, so no blob it minted and could still open is longer.
DEFAULT_MAX_ORIGINAL_BLOB_LENGTH = 10_240

_INSTALL_HINT = "pip install 'sfn-callback-urls[original]'"
_DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*")
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
# KMS answers these when the ciphertext cannot be valid for our key: the URL's fault (400).
# AccessDenied is among them because the encrypted data key names the KMS key to look up:
# tampered, it can point at a key we may not use (moto answers AccessDenied where AWS answers
# IncorrectKeyException). A role without kms:Decrypt shows up in the DEBUG log, not as a 503.
# ValidationException: KMS refused the request's shape, which comes from the message (a data
# key of a length KMS never wrote): the URL's too.
# Anything else (throttling, a disabled key, an outage) is ours: KeyUnavailable (503).
_INVALID_CIPHERTEXT_CODES = INVALID_CIPHERTEXT_CODES | {
    "AccessDeniedException",
    "ValidationException",
}
#: KMS ciphertexts are 1 to 6,144 bytes (Decrypt's CiphertextBlob): nothing else is worth a call.
_MAX_KMS_CIPHERTEXT = 6144
#: What the SDK itself puts in the encryption context of a message with a signing suite.
_SDK_CONTEXT_KEY = "aws-crypto-public-key"
#: aws-encryption-sdk's loggers (they log forged input; see the module docstring).
_SDK_LOGGER = "aws_encryption_sdk"
#: The key refused messages are remembered under (the shared memory is keyed by purpose).
_REFUSED_PURPOSE = "original-2-"
#: Who a KeyUnavailable names: never the key id (the message may reach whoever clicked).
_SUBJECT = "The original app's KMS key"

# The original's action schema, field by field (its schemas/action.py). Anything else in an
# action was accepted and ignored by the original, so it is dropped here, not refused.
_ACTION_FIELDS = {
    "success": ("name", "type", "response", "output"),
    "failure": ("name", "type", "response", "error", "cause"),
    "heartbeat": ("name", "type", "response"),
    "post": ("name", "type", "response", "outcomes"),
}
_OUTCOME_FIELDS = {
    "success": ("name", "type", "response", "schema"),  # the output source is chosen below
    "failure": ("name", "type", "response", "schema", "error", "error_path", "cause", "cause_path"),
    "heartbeat": ("name", "type", "response", "schema"),
}
_RESPONSE_BODIES = ("json", "html", "text")

_log = logging.getLogger(__name__)


def is_original_blob(data: str) -> bool:
    """Whether a callback's ``data`` is in one of the original app's formats (``2-`` or ``1-``).

    Our own blobs never start with either: their first character encodes the format byte.
    """
    return data.startswith((ORIGINAL_ENCRYPTED_PREFIX, ORIGINAL_UNENCRYPTED_PREFIX))


class _KmsFailed(Exception):
    """KMS failed for a reason that is not the ciphertext's (raised through the SDK's layers)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class _NotTheOriginals(Exception):
    """A data key the original could not have written, refused before KMS is asked."""


class OriginalUrlOpener:
    """Opens the original app's ``2-`` blobs under one KMS key, read-only.

    Args:
        kms_key_id: the original stack's KMS key. A key ARN is used as is; a key id or an alias
            is resolved to its key ARN with ``DescribeKey`` on first use (the original's
            messages name their key by ARN, so only an ARN can be matched strictly). The
            original's default stack set ``KEY_ID`` to the key id.
        client: a boto3 KMS client; by default one is built on first use from ``session``.
        session: a boto3 session for that client (default: the process's botocore
            session, shared by all our clients).
        max_blob_length: longest ``data`` accepted, checked before anything is decoded.
        leeway: clock skew tolerated on expiry (the original had none; we keep ours).
        clock: monotonic seconds, for the memory of refused messages; tests pass a fake.

    Raises:
        ConfigurationError: aws-encryption-sdk is not installed, or an argument is invalid.
    """

    def __init__(
        self,
        kms_key_id: str,
        *,
        client: KMSClient | None = None,
        session: Session | None = None,
        max_blob_length: int = DEFAULT_MAX_ORIGINAL_BLOB_LENGTH,
        leeway: timedelta = DEFAULT_LEEWAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(kms_key_id, str) or not kms_key_id.strip():
            raise ConfigurationError("The original app's KMS key id must be a non-empty string.")
        if max_blob_length < 1:
            raise ConfigurationError("max_blob_length must be positive.")
        self._sdk = _import_sdk()  # fail at configuration time, not on the first click
        self._key_id = kms_key_id.strip()
        self._kms = LazyKmsClient(client, session)
        self._max_blob_length = max_blob_length
        self.leeway = leeway
        """Clock skew tolerated when checking expiry."""
        self._lock = threading.Lock()
        self._key_arn: str | None = self._key_id if _KEY_ARN.fullmatch(self._key_id) else None
        self._master_key: Any = None
        self._decryptor: Any = None
        self._refused = RefusedHeaders(REFUSED_CACHE_SIZE, REFUSED_TTL_SECONDS, clock)

    def __repr__(self) -> str:
        return f"OriginalUrlOpener({self._key_id!r})"

    @property
    def kms_key_id(self) -> str:
        """The KMS key as configured (ARN, key id or alias)."""
        return self._key_id

    @property
    def client(self) -> KMSClient:
        """The KMS client, created on first use when none was given."""
        return self._kms.get()

    def prepare(self) -> None:
        """Build now what the first original URL would, not on first use.

        The KMS client, the key's ARN (``DescribeKey`` for a key id or alias) and the
        Encryption SDK's decryptor, for a pre-initialised environment (SnapStart).

        Raises:
            KeyUnavailable: ``DescribeKey`` failed.
        """
        self._decryption_parts()

    def open(self, blob: str, *, now: datetime | None = None, check_expiry: bool = True) -> Claims:
        """Decrypt an original ``2-`` blob and return its claims in our model.

        Args:
            blob: the ``data`` query parameter of an original callback URL.
            now: the time to check expiry against (timezone-aware; default: the wall clock).
            check_expiry: ``False`` returns the claims of an expired blob (for inspection
                tools); never use it to decide whether to complete a task.

        Raises:
            PayloadTooLarge: the blob is longer than ``max_blob_length``.
            InvalidPayload: the blob is not an original ``2-`` blob encrypted under the
                configured key (one error, one message), or, once authenticated, holds
                something this library cannot carry out (its own message).
            ExpiredPayload: the blob is authentic but its ``exp`` has passed.
            KeyUnavailable: KMS failed (throttled, disabled or pending-deletion key, outage,
                unreachable), or ``DescribeKey`` failed for a key id or alias.
            ValueError: ``now`` is naive.
        """
        now = checked_now(now)
        if not isinstance(blob, str):
            raise InvalidPayload
        if len(blob) > self._max_blob_length:
            raise PayloadTooLarge
        if not blob.startswith(ORIGINAL_ENCRYPTED_PREFIX):
            reason = (
                "the original's unencrypted 1- format"
                if blob.startswith(ORIGINAL_UNENCRYPTED_PREFIX)
                else "not the original's 2- format"
            )
            _log.debug("original callback URL refused: %s", reason)
            raise InvalidPayload
        message = _b64decode_original(blob[len(ORIGINAL_ENCRYPTED_PREFIX) :])
        if message is None:
            _log.debug("original callback URL refused: malformed base64")
            raise InvalidPayload
        refused = (_REFUSED_PURPOSE, hashlib.sha256(message).digest())
        if refused in self._refused:
            _log.debug("original callback URL refused: refused within the last minute")
            raise InvalidPayload
        try:
            plaintext = self._decrypt(message)
        except InvalidPayload:
            self._refused.add(refused)  # KeyUnavailable is never remembered: KMS may recover
            raise
        # Authenticated from here on: only a holder of the KMS key could have written it.
        claims = _claims_from_payload(plaintext)
        if check_expiry:
            claims.check_expiry(now, self.leeway)
        return claims

    # -- decryption ------------------------------------------------------------------------

    def _decrypt(self, message: bytes) -> bytes:
        sdk_client, master_key = self._decryption_parts()
        with silenced(_SDK_LOGGER):
            return self._decrypt_quietly(sdk_client, master_key, message)

    def _decrypt_quietly(self, sdk_client: Any, master_key: Any, message: bytes) -> bytes:
        from botocore.exceptions import BotoCoreError

        stream = None
        try:
            # The stream itself rather than the SDK's decrypt(): its context manager logs a
            # stack trace ("Error on closing") for every message that fails, forged ones too.
            source = io.BytesIO(message)
            stream = sdk_client.stream(mode="d", source=source, key_provider=master_key)
            plaintext = stream.read()
            stream.close()  # refuses a message whose footer (signature) was not read
            if source.tell() != len(message):
                # The SDK stops at the end of the message and ignores what follows: extra bytes
                # would make another string open to the same claims.
                raise ValueError("trailing bytes after the message")
        except _KmsFailed as failure:
            raise key_unavailable("Decrypt", failure.error, subject=_SUBJECT) from None
        except (BotoCoreError, DeadlineExceeded) as error:  # KMS unreachable: not the URL's fault
            raise key_unavailable("Decrypt", error, subject=_SUBJECT) from None
        except Exception as error:
            # Type only: the SDK's messages name key ids and header fields, nothing we need.
            _log.debug("original callback URL refused: %s", type(error).__name__)
            raise InvalidPayload from None
        finally:
            if stream is not None and not stream.closed:
                # A message that failed has no footer read, so the SDK's close() raises, and
                # would again when the stream is collected ("Exception ignored in ...", with a
                # traceback on stderr): mark it closed without that check.
                io.IOBase.close(stream)
        return bytes(plaintext)

    def _decryption_parts(self) -> tuple[Any, Any]:
        if self._decryptor is None:
            key_arn = self._resolve_key_arn()
            client = self.client  # before the lock: building the client takes it too
            with self._lock:
                if self._decryptor is None:
                    sdk = self._sdk
                    self._master_key = _strict_master_key_class(sdk)(key_id=key_arn, client=client)
                    self._decryptor = sdk.EncryptionSDKClient(
                        commitment_policy=sdk.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
                        max_encrypted_data_keys=1,  # the original wrapped its data key once
                    )
        return self._decryptor, self._master_key

    def _resolve_key_arn(self) -> str:
        if self._key_arn is None:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                response = self.client.describe_key(KeyId=self._key_id)
                arn = response["KeyMetadata"]["Arn"]
            except (BotoCoreError, ClientError, DeadlineExceeded) as error:
                raise key_unavailable("DescribeKey", error, subject=_SUBJECT) from None
            self._key_arn = arn
        return self._key_arn


# --- payload -> claims ---------------------------------------------------------------------


def _refuse(reason: str) -> InvalidPayload:
    # After authentication: the message may differ from the pre-authentication one (only the
    # key's holder can reach it), but it names no value, since values may be secrets.
    _log.warning("authentic original callback URL cannot be carried out: %s", reason)
    return InvalidPayload(
        "This callback URL was made by the original sfn-callback-urls app with an action "
        "that cannot be carried out here."
    )


def _claims_from_payload(plaintext: bytes) -> Claims:
    try:
        payload = json.loads(plaintext)
    except (ValueError, RecursionError):
        raise _refuse("the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise _refuse("the payload is not a JSON object")
    token = payload.get("token")
    tid = payload.get("tid")
    if not isinstance(token, str) or not token:
        raise _refuse("no token")
    if not isinstance(tid, str) or not tid:
        raise _refuse("no transaction id")
    param = payload.get("param", False)
    if not isinstance(param, bool):
        raise _refuse("param is not a boolean")
    issued_at = _timestamp(payload.get("iat"), "iat")
    expires_at = None if "exp" not in payload else _timestamp(payload["exp"], "exp")
    if issued_at is None:
        raise _refuse("no iat")
    action = _action(payload.get("action"))
    # The original's transaction ids are 32 hex digits, not our canonical UUIDs: keep them as
    # they are, since callers correlate them with the create-URLs answer they got.
    return Claims.trusted(
        token=token,
        action=action,
        transaction_id=tid,
        issued_at=issued_at,
        expires_at=expires_at,
        output_parameters=param,
    )


def _timestamp(value: Any, name: str) -> datetime | None:
    """Epoch seconds -> aware UTC, whole seconds (the original wrote ``int(naive.timestamp())``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(f"{name} is not a number")
    try:
        return datetime.fromtimestamp(math.floor(value), timezone.utc)
    except (OverflowError, OSError, ValueError):  # inf, nan, or past year 9999
        raise _refuse(f"{name} is out of range") from None


def _action(raw: Any) -> Action:
    if not isinstance(raw, dict):
        raise _refuse("no action")
    kind = raw.get("type")
    fields = _ACTION_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise _refuse("unknown action type")
    action: dict[str, Any] = {key: raw[key] for key in fields if key in raw}
    if "response" in action:
        action["response"] = _response(action["response"])
    if kind == "post":
        outcomes = action.get("outcomes")
        if not isinstance(outcomes, list):
            raise _refuse("a post action without outcomes")
        action["outcomes"] = [_outcome(outcome) for outcome in outcomes]
    try:
        return parse_action(action)
    except InvalidRequest as error:
        # The reason names fields, never values (parse_action's messages may quote input).
        # Top-level fields only: deeper locations may be keys of the minter's JSON values.
        fields_at_fault = ", ".join(sorted({loc.split(".")[0] for loc, _ in error.errors})) or "?"
        raise _refuse(f"our models refuse it ({fields_at_fault})") from None


def _response(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw  # not a spec: parse_action refuses it
    if "redirect" in raw:
        # The original answered a redirect and never looked at json/html/text next to it.
        return {"redirect": raw["redirect"]}
    return {key: raw[key] for key in _RESPONSE_BODIES if key in raw}


def _outcome(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    kind = raw.get("type")
    fields = _OUTCOME_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        return raw  # parse_action names the bad type
    outcome: dict[str, Any] = {key: raw[key] for key in fields if key in raw}
    if kind == "success":
        # The original took the first that applied: a truthy output_body, then output_path,
        # then output (default {}); its schema let at most one of them through.
        if raw.get("output_body"):
            outcome["output_body"] = True
        elif "output_path" in raw:
            outcome["output_path"] = raw["output_path"]
        elif "output" in raw:
            outcome["output"] = raw["output"]
    if "response" in outcome:
        # An outcome's response, even {}, replaced the action's in the original: keep it.
        outcome["response"] = _response(outcome["response"])
    schema = outcome.get("schema")
    if isinstance(schema, dict) and "$schema" not in schema:
        outcome["schema"] = {"$schema": _DRAFT_7, **schema}
    return outcome


# --- helpers -------------------------------------------------------------------------------


def _b64decode_original(text: str) -> bytes | None:
    """base64url as the original wrote it (padded), also unpadded; canonical bits only.

    Re-encoding must give the text back, so no two strings open to the same message and a
    one-character change is never ignored.
    """
    stripped = text.rstrip("=")
    padding = len(text) - len(stripped)
    if not stripped or not _URLSAFE_B64.fullmatch(stripped) or len(stripped) % 4 == 1:
        return None
    if padding and (padding > 2 or len(text) % 4):
        return None
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != stripped.encode("ascii"):
        return None
    return raw


def require_sdk() -> None:
    """Check that the ``original`` extra is installed (configuration time, not the first click).

    Raises:
        ConfigurationError: aws-encryption-sdk cannot be imported; the message says what to
            install.
    """
    _import_sdk()


def _import_sdk() -> Any:
    try:
        import aws_encryption_sdk
        import aws_encryption_sdk.exceptions
        import aws_encryption_sdk.key_providers.kms
    except ImportError:
        raise ConfigurationError(
            f"Opening the original app's callback URLs needs aws-encryption-sdk: {_INSTALL_HINT}"
        ) from None
    return aws_encryption_sdk


@functools.cache
def _strict_master_key_class(sdk: Any) -> type:
    """The SDK's `KMSMasterKey` for one key, telling KMS failures from bad ciphertexts.

    A `KMSMasterKey` is its own key provider: it decrypts only data keys whose provider info is
    exactly its ARN (the check `StrictAwsKmsMasterKeyProvider` makes for each of its keys) and
    never creates keys for others. The SDK turns every KMS error into ``DecryptKeyError``; the
    KMS error code survives only as that exception's context, so it is read here.
    """
    base = sdk.key_providers.kms.KMSMasterKey
    decrypt_key_error = sdk.exceptions.DecryptKeyError

    class _StrictKmsMasterKey(base):  # type: ignore[misc,valid-type]
        def _decrypt_data_key(
            self, encrypted_data_key: Any, algorithm: Any, encryption_context: Any = None
        ) -> Any:
            # Called with the message's own context, after the key ARN check, before KMS.
            _check_original_data_key(encrypted_data_key, encryption_context)
            try:
                return super()._decrypt_data_key(encrypted_data_key, algorithm, encryption_context)
            except decrypt_key_error as error:
                cause = error.__context__
                code = aws_error_code(cause)
                if cause is not None and code is not None:
                    if code not in _INVALID_CIPHERTEXT_CODES:
                        raise _KmsFailed(cause) from None
                    # If every original URL fails like this, check the role's kms:Decrypt.
                    _log.debug("original callback URL refused: KMS Decrypt answered %s", code)
                raise

    return _StrictKmsMasterKey


def _check_original_data_key(encrypted_data_key: Any, context: Any) -> None:
    """Refuse, before KMS is asked, a data key or context the original app never wrote.

    The original passed no encryption context and always used a signing suite (the SDK's
    default, 1.x and 2.x alike), for which the SDK adds ``aws-crypto-public-key``: any other
    context (another key, or none: a non-signing suite) means the message was made for
    something else under the same KMS key. That is the purpose binding, and the condition the
    SAM template puts on the callback role's ``kms:Decrypt`` for these messages.

    Raises:
        _NotTheOriginals: the context or the data key's size is not the original's.
    """
    if not isinstance(context, dict) or set(context) != {_SDK_CONTEXT_KEY}:
        _log.debug("original callback URL refused: an encryption context the original never wrote")
        raise _NotTheOriginals
    size = len(encrypted_data_key.encrypted_data_key)
    if not 1 <= size <= _MAX_KMS_CIPHERTEXT:
        _log.debug("original callback URL refused: a %d-byte data key", size)
        raise _NotTheOriginals
