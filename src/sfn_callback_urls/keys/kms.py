"""AWS KMS key backends: data keys rooted in KMS, cached so KMS sees one call per data key.

Three ways to use KMS (``docs/kms.md`` compares them):

- `KmsEnvelopeKey` (ordinary symmetric keys): ``GenerateDataKey`` mints a data key whose
  KMS-encrypted copy rides in every blob; handlers recover it with ``Decrypt``.
- `KmsDerivedKey` (HMAC keys): the data key is ``GenerateMac`` over a random salt that rides
  in the blob. Shorter URLs than envelope mode.
- A KMS-wrapped local keyring (`wrap_keyring()`, `load_wrapped_keyring()`,
  `keyring_from_environment()`): local keys stored encrypted under KMS and decrypted once per
  process; blobs then cost what local-key blobs cost.

Both key classes take any boto3 client or session; without one they build a KMS client lazily
(on first use, never at import) from the usual AWS configuration with standard retries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigurationError, InvalidPayload, KeyUnavailable
from .base import MAX_KEY_HEADER_LENGTH, MAX_KEY_ID_LENGTH, DataKey, KeyBackend
from .keyring import Keyring
from .local import LocalKey

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENCRYPTION_CONTEXT_KEY",
    "ENV_KEY",
    "ENV_PARAMETER",
    "ENV_WRAPPED_KEY",
    "WRAPPED_KEYRING_PREFIX",
    "KmsDerivedKey",
    "KmsEnvelopeKey",
    "keyring_from_environment",
    "load_wrapped_keyring",
    "wrap_keyring",
]

#: The encryption context key under which the codec's purpose is bound into every KMS call that
#: takes an encryption context. IAM policies can restrict it with the condition key
#: ``kms:EncryptionContext:sfn-callback-urls:purpose``.
ENCRYPTION_CONTEXT_KEY = "sfn-callback-urls:purpose"
#: Environment variable holding a plain local keyring string (``sfncu1_...,sfncu1_...``).
ENV_KEY = "SFN_CALLBACK_URLS_KEY"
#: Environment variable holding a KMS-wrapped keyring string (``sfncukms1_...``).
ENV_WRAPPED_KEY = "SFN_CALLBACK_URLS_WRAPPED_KEY"
#: Environment variable holding the name of an SSM parameter that holds either form.
ENV_PARAMETER = "SFN_CALLBACK_URLS_PARAMETER"
#: Prefix of the strings `wrap_keyring()` writes.
WRAPPED_KEYRING_PREFIX = "sfncukms1_"

_WIRE_ID_LENGTH = 4
_ENVELOPE_ID_PREFIX = b"sfn-callback-urls/kms-envelope-key-id\x00"
_DERIVED_ID_PREFIX = b"sfn-callback-urls/kms-derived-key-id\x00"
_DERIVED_MESSAGE_PREFIX = b"sfn-callback-urls/v1/kms-derived-data-key\x00"
_SALT_LENGTH = 16
_SECRET_LENGTH = 32
_MAX_MAC_MESSAGE = 4096  # GenerateMac's limit on Message
_WRAPPED_PURPOSE = "local-keyring"
_WRAPPED_CACHE_SIZE = 16
# Key headers KMS refused (a forged or damaged data key) are remembered this long, so that one
# forged URL replayed N times costs one KMS call, not N; bounded, oldest forgotten first.
_REFUSED_TTL_SECONDS = 60.0
_REFUSED_CACHE_SIZE = 4096
# KMS answers these when a ciphertext cannot be valid for the key and context we asked for:
# the caller sent a bad blob (HTTP 400). Everything else (AccessDenied included) is our problem.
_INVALID_CIPHERTEXT_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})

_K = TypeVar("_K", bound=Hashable)


# --- clients and errors ----------------------------------------------------------------------


def _make_client(service: Literal["kms", "ssm"], session: Session | None) -> Any:
    """A boto3 client with standard retries; region and endpoint come from AWS configuration."""
    # Imported on first use only, so importing this module stays cheap.
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard"})
    try:
        session = session or boto3.Session()
        if service == "kms":
            return session.client("kms", config=config)
        return session.client("ssm", config=config)
    except BotoCoreError as error:
        raise ConfigurationError(
            f"Cannot create an AWS {service.upper()} client ({type(error).__name__}); "
            "check the AWS region and credentials configuration."
        ) from error


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def _key_unavailable(operation: str, error: Exception) -> KeyUnavailable:
    # The message names the operation and error code only: never the key id, the ciphertext or
    # key material, because it may be shown to whoever clicked the link. The original error
    # (with KMS's own message) stays on the exception for logs.
    code = _error_code(error)
    return KeyUnavailable(
        f"The KMS key is unavailable: {operation} failed with {code}.",
        aws_code=code,
        original_error=error,
    )


def _check_wire_id(wire_id: bytes) -> bytes:
    if not 1 <= len(wire_id) <= MAX_KEY_ID_LENGTH:
        raise ConfigurationError("A key id must be 1 to 32 bytes long.")
    return bytes(wire_id)


def _default_wire_id(prefix: bytes, key_id: str) -> bytes:
    return hashlib.sha256(prefix + key_id.encode("utf-8")).digest()[:_WIRE_ID_LENGTH]


# --- caches ----------------------------------------------------------------------------------


class _LruCache(Generic[_K]):
    """A bounded, thread-safe LRU of data keys whose entries also expire after ``max_age``.

    Concurrent misses on the same key wait for one load instead of each calling KMS.
    """

    __slots__ = ("_clock", "_data", "_loading", "_lock", "_max_age", "_maxsize")

    def __init__(self, maxsize: int, max_age: float, clock: Callable[[], float]) -> None:
        self._maxsize = maxsize
        self._max_age = max_age
        self._clock = clock
        self._data: OrderedDict[_K, tuple[float, DataKey]] = OrderedDict()
        self._loading: dict[_K, threading.Lock] = {}
        self._lock = threading.Lock()

    def _lookup(self, key: _K) -> DataKey | None:
        # Call with self._lock held.
        entry = self._data.get(key)
        if entry is None:
            return None
        if self._clock() - entry[0] >= self._max_age:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry[1]

    def get_or_load(self, key: _K, load: Callable[[], DataKey]) -> DataKey:
        with self._lock:
            hit = self._lookup(key)
            if hit is not None:
                return hit
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._lookup(key)
                if hit is not None:
                    return hit
            try:
                value = load()
                with self._lock:
                    self._data[key] = (self._clock(), value)
                    self._data.move_to_end(key)
                    while len(self._data) > self._maxsize:
                        self._data.popitem(last=False)
            finally:
                with self._lock:
                    if self._loading.get(key) is key_lock:
                        del self._loading[key]
            return value


class _RefusedHeaders:
    """A bounded, thread-safe set of refused key headers (by digest) that expire after a TTL."""

    __slots__ = ("_clock", "_data", "_lock", "_maxsize", "_ttl")

    def __init__(self, maxsize: int, ttl: float, clock: Callable[[], float]) -> None:
        self._maxsize = maxsize
        self._ttl = ttl
        self._clock = clock
        self._data: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, bytes]) -> bool:
        with self._lock:
            refused_at = self._data.get(key)
            if refused_at is None:
                return False
            if self._clock() - refused_at >= self._ttl:
                del self._data[key]
                return False
            return True

    def add(self, key: tuple[str, bytes]) -> None:
        with self._lock:
            self._data[key] = self._clock()
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)


class _MintingEntry:
    __slots__ = ("created", "data_key", "header", "uses")

    def __init__(self, header: bytes, data_key: DataKey, created: float) -> None:
        self.header = header
        self.data_key = data_key
        self.created = created
        self.uses = 0


# --- the shared machinery --------------------------------------------------------------------


class _KmsKey:
    """What both KMS backends share: the client, the two caches and their limits."""

    __slots__ = (
        "_client",
        "_client_lock",
        "_clock",
        "_key_id",
        "_max_age",
        "_max_uses",
        "_mint_lock",
        "_minting",
        "_opened",
        "_refused",
        "_session",
        "_wire_id",
    )
    _ID_PREFIX: bytes = b""

    def __init__(
        self,
        key_id: str,
        *,
        client: KMSClient | None = None,
        session: Session | None = None,
        wire_id: bytes | None = None,
        max_age: timedelta = timedelta(minutes=5),
        max_uses: int = 100_000,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not key_id:
            raise ConfigurationError("A KMS key id, ARN or alias is required.")
        if max_age <= timedelta(0):
            raise ConfigurationError("max_age must be positive.")
        if max_uses < 1:
            raise ConfigurationError("max_uses must be at least 1.")
        if cache_size < 1:
            raise ConfigurationError("cache_size must be at least 1.")
        self._key_id = key_id
        self._wire_id = _check_wire_id(
            _default_wire_id(self._ID_PREFIX, key_id) if wire_id is None else wire_id
        )
        self._client: KMSClient | None = client
        self._session = session
        self._client_lock = threading.Lock()
        self._max_age = max_age.total_seconds()
        self._max_uses = max_uses
        self._clock = clock
        self._mint_lock = threading.Lock()
        self._minting: dict[str, _MintingEntry] = {}
        self._opened: _LruCache[tuple[str, bytes]] = _LruCache(cache_size, self._max_age, clock)
        self._refused = _RefusedHeaders(_REFUSED_CACHE_SIZE, _REFUSED_TTL_SECONDS, clock)

    @property
    def key_id(self) -> bytes:
        """The key id written into blobs (the ``wire_id``), not the KMS key id."""
        return self._wire_id

    @property
    def kms_key_id(self) -> str:
        """The KMS key id, ARN or alias this backend calls KMS with."""
        return self._key_id

    @property
    def client(self) -> KMSClient:
        """The KMS client, created on first use when none was given."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = _make_client("kms", self._session)
        return self._client

    def mint_key(self, purpose: str) -> tuple[bytes, DataKey]:
        """A cached data key for ``purpose``; a new one from KMS when it is too old or too used.

        Raises:
            KeyUnavailable: KMS failed (disabled or missing key, access denied, outage, ...).
        """
        # One lock for minting, held during the KMS call: when a data key runs out, the other
        # minters wait for its successor instead of each asking KMS for one.
        with self._mint_lock:
            entry = self._minting.get(purpose)
            now = self._clock()
            if (
                entry is None
                or entry.uses >= self._max_uses
                or now - entry.created >= self._max_age
            ):
                header, secret = self._new_data_key(purpose)
                if len(header) > MAX_KEY_HEADER_LENGTH:
                    raise ConfigurationError(
                        f"KMS returned a {len(header)}-byte key header; "
                        f"at most {MAX_KEY_HEADER_LENGTH} fit in a blob."
                    )
                entry = _MintingEntry(header, DataKey(secret), now)
                self._minting[purpose] = entry
            entry.uses += 1
            return entry.header, entry.data_key

    def open_key(self, key_header: bytes, purpose: str) -> DataKey:
        """The data key of a blob's ``key_header``, from the cache or from KMS.

        A header KMS refused is remembered (by digest and purpose) for 60 seconds, so a forged
        URL replayed many times costs one KMS call per minute, not one per request. Failures of
        KMS itself (``KeyUnavailable``) are never remembered.

        Raises:
            InvalidPayload: the header cannot be one we minted for this key and purpose.
            KeyUnavailable: KMS failed (disabled or missing key, access denied, outage, ...).
        """
        self._check_header(key_header)
        refused = (purpose, hashlib.sha256(key_header).digest())

        def load() -> DataKey:
            # Runs under the cache's per-header lock: concurrent replays of one forgery wait
            # for the first KMS answer, then find it here.
            if refused in self._refused:
                raise InvalidPayload
            try:
                return DataKey(self._recover_secret(key_header, purpose))
            except InvalidPayload:
                self._refused.add(refused)
                raise

        # The cache key includes the purpose: the same header must not open under another one.
        return self._opened.get_or_load((purpose, bytes(key_header)), load)

    def _new_data_key(self, purpose: str) -> tuple[bytes, bytes]:
        raise NotImplementedError

    def _check_header(self, key_header: bytes) -> None:
        raise NotImplementedError

    def _recover_secret(self, key_header: bytes, purpose: str) -> bytes:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._key_id!r}, wire_id={self._wire_id.hex()!r})"


class KmsEnvelopeKey(_KmsKey):
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
        session: a boto3 session for that client (default: ``boto3.Session()``).
        wire_id: the key id written into blobs (1 to 32 bytes); by default the first 4 bytes of
            SHA-256 over a fixed prefix and ``key_id``.
        max_age: how long a data key is used for minting, and how long a decrypted one is kept
            (so disabling the KMS key stops warm handlers within ``max_age``).
        max_uses: how many blobs one data key mints before a new one is generated.
        cache_size: how many decrypted data keys the handling side keeps (LRU).
        clock: monotonic seconds, for the cache limits; tests pass a fake.
    """

    __slots__ = ()
    _ID_PREFIX = _ENVELOPE_ID_PREFIX

    def _new_data_key(self, purpose: str) -> tuple[bytes, bytes]:
        try:
            response = self.client.generate_data_key(
                KeyId=self._key_id,
                KeySpec="AES_256",
                EncryptionContext={ENCRYPTION_CONTEXT_KEY: purpose},
            )
        except (ClientError, BotoCoreError) as error:
            raise _key_unavailable("GenerateDataKey", error) from error
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
        except ClientError as error:
            if _error_code(error) in _INVALID_CIPHERTEXT_CODES:
                raise InvalidPayload from None
            raise _key_unavailable("Decrypt", error) from error
        except BotoCoreError as error:
            raise _key_unavailable("Decrypt", error) from error
        secret = response["Plaintext"]
        if len(secret) != _SECRET_LENGTH:
            # Only a ciphertext of something other than an AES_256 data key gets here.
            raise InvalidPayload
        return secret


class KmsDerivedKey(_KmsKey):
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
    _ID_PREFIX = _DERIVED_ID_PREFIX

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
        message = (
            _DERIVED_MESSAGE_PREFIX + struct.pack(">H", len(purpose_bytes)) + purpose_bytes + salt
        )
        if len(message) > _MAX_MAC_MESSAGE:
            raise ConfigurationError("The purpose is too long for a KMS derived key.")
        try:
            response = self.client.generate_mac(
                KeyId=self._key_id, MacAlgorithm="HMAC_SHA_256", Message=message
            )
        except (ClientError, BotoCoreError) as error:
            raise _key_unavailable("GenerateMac", error) from error
        mac = response["Mac"]
        if len(mac) != _SECRET_LENGTH:
            raise ConfigurationError("A KMS derived key needs an HMAC_256 key (a 32-byte MAC).")
        return mac


# --- KMS-wrapped local keyrings -------------------------------------------------------------

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
        session: a boto3 session for that client (default: ``boto3.Session()``).

    Raises:
        ConfigurationError: ``keys`` is not a valid keyring.
        KeyUnavailable: KMS ``Encrypt`` failed.
    """
    plaintext = _keyring_text(keys).encode("utf-8")
    kms = client if client is not None else _make_client("kms", session)
    try:
        response = kms.encrypt(
            KeyId=kms_key_id, Plaintext=plaintext, EncryptionContext=_WRAPPED_CONTEXT
        )
    except (ClientError, BotoCoreError) as error:
        raise _key_unavailable("Encrypt", error) from error
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
        session: a boto3 session for that client (default: ``boto3.Session()``).

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
    kms = client if client is not None else _make_client("kms", session)
    arguments: dict[str, Any] = {"CiphertextBlob": blob, "EncryptionContext": _WRAPPED_CONTEXT}
    if kms_key_id is not None:
        arguments["KeyId"] = kms_key_id
    try:
        response = kms.decrypt(**arguments)
    except ClientError as error:
        if _error_code(error) in _INVALID_CIPHERTEXT_CODES:
            raise ConfigurationError(
                "The wrapped keyring string is damaged or was wrapped under another KMS key "
                f"({_error_code(error)})."
            ) from None
        raise _key_unavailable("Decrypt", error) from error
    except BotoCoreError as error:
        raise _key_unavailable("Decrypt", error) from error
    try:
        plain = response["Plaintext"].decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError("The wrapped keyring does not hold local keys.") from None
    return Keyring.from_string(plain)


_wrapped_cache: OrderedDict[str, Keyring] = OrderedDict()
_wrapped_lock = threading.Lock()


def _load_wrapped_cached(text: str, client: KMSClient | None, session: Session | None) -> Keyring:
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


def _keyring_from_text(
    text: str, source: str, client: KMSClient | None, session: Session | None
) -> Keyring:
    if text.strip().startswith(WRAPPED_KEYRING_PREFIX):
        return _load_wrapped_cached(text, client, session)
    try:
        return Keyring.from_string(text)
    except ConfigurationError as error:
        raise ConfigurationError(f"{source}: {error.message}") from None


def _read_parameter(name: str, ssm_client: Any, session: Session | None) -> str:
    ssm = ssm_client if ssm_client is not None else _make_client("ssm", session)
    try:
        response = ssm.get_parameter(Name=name, WithDecryption=True)
    except ClientError as error:
        code = _error_code(error)
        if code == "ParameterNotFound":
            raise ConfigurationError(
                f"{ENV_PARAMETER} names an SSM parameter that does not exist."
            ) from None
        raise KeyUnavailable(
            f"The keyring parameter is unavailable: SSM GetParameter failed with {code}.",
            aws_code=code,
            original_error=error,
        ) from error
    except BotoCoreError as error:
        code = _error_code(error)
        raise KeyUnavailable(
            f"The keyring parameter is unavailable: SSM GetParameter failed with {code}.",
            aws_code=code,
            original_error=error,
        ) from error
    return str(response["Parameter"]["Value"])


def keyring_from_environment(
    environ: Mapping[str, str] = os.environ,
    *,
    client: KMSClient | None = None,
    ssm_client: Any = None,
    session: Session | None = None,
) -> Keyring:
    """The keyring configured by exactly one of three environment variables.

    - ``SFN_CALLBACK_URLS_KEY``: a plain local keyring string (``sfncu1_...,...``);
    - ``SFN_CALLBACK_URLS_WRAPPED_KEY``: a string from `wrap_keyring()`, decrypted with one
      KMS call per process (the result is cached by the string, so a Lambda cold start pays one
      KMS call and warm invocations none);
    - ``SFN_CALLBACK_URLS_PARAMETER``: the name of an SSM parameter (String or SecureString)
      holding either form; it is read on every call, so call this once and keep the keyring.

    Args:
        environ: where to look (default: ``os.environ``).
        client: the KMS client for wrapped keyrings.
        ssm_client: the SSM client for the parameter.
        session: a boto3 session for the clients not given.

    Raises:
        ConfigurationError: none or several of the variables are set, or the value is invalid.
        KeyUnavailable: KMS or SSM failed.
    """
    names = [name for name in (ENV_KEY, ENV_WRAPPED_KEY, ENV_PARAMETER) if environ.get(name)]
    if not names:
        raise ConfigurationError(
            f"No key configured: set {ENV_KEY} (a local keyring), {ENV_WRAPPED_KEY} "
            f"(a KMS-wrapped keyring) or {ENV_PARAMETER} (an SSM parameter holding either)."
        )
    if len(names) > 1:
        raise ConfigurationError(f"Set only one of {', '.join(names)}.")
    name = names[0]
    value = environ[name]
    if name == ENV_KEY:
        return _keyring_from_text(value, ENV_KEY, client, session)
    if name == ENV_WRAPPED_KEY:
        if not value.strip().startswith(WRAPPED_KEYRING_PREFIX):
            raise ConfigurationError(
                f"{ENV_WRAPPED_KEY} must start with {WRAPPED_KEYRING_PREFIX!r}."
            )
        return _load_wrapped_cached(value, client, session)
    text = _read_parameter(value.strip(), ssm_client, session)
    return _keyring_from_text(text, f"The SSM parameter in {ENV_PARAMETER}", client, session)
