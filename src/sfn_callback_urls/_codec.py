"""The sealed blob: claims to a compact, authenticated, URL-safe string and back.

Wire format, version 1 (``docs/blob-format.md`` is the full specification):

```text
blob      = base64url(header || sealed)              no padding, canonical
header    = format(1) || len(kid)(1) || kid || len(kh)(1) || kh
format    = 0x10 | mode                               version 1; mode 1 encrypted, 2 signed
sealed    = nonce(12) || AES-256-GCM-SIV(plaintext)   encrypted mode, AAD = context
          | plaintext || HMAC-SHA256(context || plaintext)[:16]          signed mode
context   = len(purpose)(2) || purpose || header
plaintext = flags(1) || type(1) || tid(16) || iat(4) || exp(4) || len(token)(2) || token
            || action
```

``kid`` names the key in a keyring; ``kh`` is the key backend's header (empty for local keys).
The token is stored as its raw bytes when it is canonical standard base64 (real task tokens are),
which saves a quarter of its length; the action is compact JSON without its ``type`` (that is the
``type`` byte) and without fields at their defaults, deflated only when that is shorter.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import os
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

import pydantic
from cryptography.exceptions import InvalidTag
from pydantic_core import PydanticSerializationError

from ._claims import Claims, is_transaction_id, uuid_text
from ._contract import MAX_BLOB_LENGTH, MAX_DECOMPRESSED_SIZE, MAX_KEY_HEADER_LENGTH
from ._models import ACTION_CLASSES, Action
from ._time import checked_now, wire_seconds
from .errors import (
    ConfigurationError,
    InvalidPayload,
    InvalidRequest,
    PayloadTooLarge,
    SfnCallbackUrlsError,
)
from .keys._base import KeyBackend
from .keys._environment import keyring_from_environment
from .keys._keyring import Keyring

__all__ = [
    "DEFAULT_LEEWAY",
    "DEFAULT_PURPOSE",
    "ENV_MODE",
    "ENV_PURPOSE",
    "Codec",
    "Mode",
    "mode_from_environment",
    "purpose_from_environment",
]

#: Purpose used when none is given. Give each deployment its own to keep their blobs apart.
DEFAULT_PURPOSE = "sfn-callback-urls"
#: Clock skew tolerated when checking expiry.
DEFAULT_LEEWAY = timedelta(seconds=30)

_VERSION = 1
_NONCE_LENGTH = 12
_TAG_LENGTH = 16
_FLAG_TOKEN_RAW = 0x01
_FLAG_DEFLATED = 0x02
_FLAG_OUTPUT_PARAMETERS = 0x04
_KNOWN_FLAGS = _FLAG_TOKEN_RAW | _FLAG_DEFLATED | _FLAG_OUTPUT_PARAMETERS
_FIXED = struct.Struct(">BB16sIIH")
#: Deflate never wins on short JSON; don't pay for trying.
_COMPRESS_THRESHOLD = 96
_FROM_URLSAFE = bytes.maketrans(b"-_+/", b"+/-_")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_URLSAFE_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URLSAFE_VALUES = {char: value for value, char in enumerate(_URLSAFE_ALPHABET)}
_PADDING = (b"", b"", b"==", b"=")
#: Wire codes of the action types; never renumber.
_TYPE_CODES: dict[str, int] = {"success": 1, "failure": 2, "heartbeat": 3, "post": 4}
_ACTION_CLASSES = {code: ACTION_CLASSES[name] for name, code in _TYPE_CODES.items()}


class Mode(enum.IntEnum):
    """How a blob is sealed. A codec accepts only blobs of its own mode."""

    #: AES-256-GCM-SIV: nobody without the key can read or change the contents.
    ENCRYPTED = 1
    #: HMAC-SHA256: nobody can change the contents, but anyone holding the URL can read them,
    #: task token included. Choose it only when that is acceptable.
    SIGNED = 2


#: The purpose every blob is bound to; give each deployment its own.
ENV_PURPOSE = "SFN_CALLBACK_URLS_PURPOSE"
#: How blobs are sealed: ``encrypted`` (the default) or ``signed``.
ENV_MODE = "SFN_CALLBACK_URLS_MODE"
_MODES = {"encrypted": Mode.ENCRYPTED, "signed": Mode.SIGNED}


def mode_from_environment(environ: Mapping[str, str]) -> Mode:
    """The mode ``SFN_CALLBACK_URLS_MODE`` names (``encrypted`` when unset).

    Raises:
        ConfigurationError: it names no mode.
    """
    text = environ.get(ENV_MODE, "").strip().lower() or "encrypted"
    try:
        return _MODES[text]
    except KeyError:
        raise ConfigurationError(f"{ENV_MODE} must be 'encrypted' or 'signed'.") from None


def purpose_from_environment(environ: Mapping[str, str]) -> str:
    """The purpose ``SFN_CALLBACK_URLS_PURPOSE`` names (`DEFAULT_PURPOSE` when unset)."""
    return environ.get(ENV_PURPOSE, "").strip() or DEFAULT_PURPOSE


class Codec:
    """Seals `Claims` into blobs and opens them again.

    Args:
        keys: a `Keyring`, a single key, or a list of keys
            (primary first).
        mode: `Mode.ENCRYPTED` (default) or `Mode.SIGNED`.
        purpose: bound into every blob as associated data; a codec with another purpose rejects
            the blob even with the same key. Use one per deployment or use case.
        leeway: clock skew tolerated on expiry.
    """

    __slots__ = (
        "_context_prefix",
        "_keyring",
        "_last",
        "_mode",
        "_purpose",
        "leeway",
    )

    def __init__(
        self,
        keys: Keyring | KeyBackend | Iterable[KeyBackend],
        *,
        mode: Mode = Mode.ENCRYPTED,
        purpose: str = DEFAULT_PURPOSE,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        self._keyring = Keyring.of(keys)
        self._mode = Mode(mode)
        purpose_bytes = purpose.encode("utf-8")
        if len(purpose_bytes) > 0xFFFF:
            raise ValueError("purpose is too long")
        self._purpose = purpose
        self.leeway = leeway
        """Clock skew tolerated when checking expiry."""
        self._context_prefix = struct.pack(">H", len(purpose_bytes)) + purpose_bytes
        self._last: tuple[KeyBackend | None, bytes, bytes, bytes] = (None, b"", b"", b"")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Codec:
        """The codec the environment configures, as the ready Lambda app reads it.

        Keys from ``KEY_ID`` (KMS) and/or ``SFN_CALLBACK_URLS_KEY`` (a local keyring, several keys
        separated by commas), ``SFN_CALLBACK_URLS_WRAPPED_KEY`` or ``SFN_CALLBACK_URLS_PARAMETER``;
        the purpose from ``SFN_CALLBACK_URLS_PURPOSE`` and the mode from
        ``SFN_CALLBACK_URLS_MODE``. ``docs/deploy.md`` lists every variable.

        Raises:
            ConfigurationError: no key, or an invalid setting (the message names the variable
                and never echoes a key).
            KeyUnavailable: KMS or SSM failed while loading a wrapped keyring.
        """
        return cls(
            keyring_from_environment(environ),
            mode=mode_from_environment(environ),
            purpose=purpose_from_environment(environ),
        )

    @property
    def purpose(self) -> str:
        """The purpose bound into every blob this codec seals and opens (fixed at creation)."""
        return self._purpose

    @property
    def keyring(self) -> Keyring:
        """The keys this codec mints with (the primary) and opens with (all)."""
        return self._keyring

    @property
    def mode(self) -> Mode:
        """The one mode this codec seals and accepts."""
        return self._mode

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, claims: Claims) -> str:
        """Seal ``claims`` with the keyring's primary key into a URL-safe blob.

        Raises:
            PayloadTooLarge: the blob would exceed `MAX_BLOB_LENGTH`.
            InvalidRequest: the token or action cannot be encoded (e.g. a lone surrogate).
        """
        return self.seal_many((claims,))[0]

    def seal_many(self, claims: Sequence[Claims]) -> list[str]:
        """Seal several claims of one task token into blobs, in order: `seal()` of each.

        Runs of claims that share their transaction id, times and ``output_parameters`` (a
        mint's claims are one run) go through `seal_actions()` together.

        Raises:
            ValueError: the claims are not all of one token.
            PayloadTooLarge, InvalidRequest: see `seal()`.
        """
        if any(item.token != claims[0].token for item in claims):
            raise ValueError("seal_many() seals the claims of one token")
        blobs: list[str] = []
        start = 0
        while start < len(claims):
            first = claims[start]
            end = start + 1
            while end < len(claims) and _shared_parts(claims[end]) == _shared_parts(first):
                end += 1
            blobs += self.seal_actions(
                first.token,
                [item.action for item in claims[start:end]],
                transaction_id=first.transaction_id,
                issued_at=first.issued_at,
                expires_at=first.expires_at,
                output_parameters=first.output_parameters,
            )
            start = end
        return blobs

    def seal_actions(
        self,
        token: str,
        actions: Sequence[Action],
        *,
        transaction_id: str,
        issued_at: datetime,
        expires_at: datetime | None = None,
        output_parameters: bool = False,
    ) -> list[str]:
        """Seal one task token's actions into blobs, in order: the one way blobs are sealed.

        Each blob holds the `Claims` of one action with the other arguments; what the blobs
        share (the token, the transaction id, the times, the key) is encoded once. The minter
        calls it with its checked parts, and `seal()` and `seal_many()` are built on it.

        Args:
            token: the task token.
            actions: the actions, one blob each.
            transaction_id: a UUID in its canonical form.
            issued_at: the issue time (timezone-aware; sealed as whole seconds).
            expires_at: the expiry (timezone-aware; whole seconds), or ``None`` for none.
            output_parameters: whether query parameters may fill the output's templates.

        Raises:
            InvalidRequest: the transaction id is not canonical, a time is naive or outside
                1970..2106, or the token or an action cannot be encoded (a lone surrogate).
            PayloadTooLarge: a blob would exceed `MAX_BLOB_LENGTH`.
        """
        if not is_transaction_id(transaction_id):
            raise InvalidRequest("transaction_id: must be a UUID in its canonical form")
        token_part = _encode_token(token)
        tid = _uuid_bytes(transaction_id)
        iat = wire_seconds("issued_at", issued_at)
        exp = 0 if expires_at is None else wire_seconds("expires_at", expires_at)
        plaintexts = [
            _plaintext(token_part, action, tid, iat, exp, output_parameters) for action in actions
        ]
        # The key last: claims that cannot be sealed cost no key backend call.
        return self._seal_plaintexts(plaintexts)

    def _seal_plaintexts(self, plaintexts: list[bytes]) -> list[str]:
        """Seal each plaintext with the primary key (asked once) into a URL-safe blob."""
        key = self._keyring.primary
        key_header, data_key = key.mint_key(self._purpose)
        # One tuple, read and replaced atomically, so threads never mix two entries.
        last_key, last_key_header, header, context = self._last
        if key is not last_key or key_header != last_key_header:
            key_id = key.key_id
            if len(key_header) > MAX_KEY_HEADER_LENGTH:
                raise ConfigurationError(
                    f"The key backend returned a {len(key_header)}-byte key header; "
                    f"at most {MAX_KEY_HEADER_LENGTH} fit in a blob."
                )
            header = (
                bytes(((_VERSION << 4) | self._mode, len(key_id)))
                + key_id
                + bytes((len(key_header),))
                + key_header
            )
            context = self._context_prefix + header
            # One entry is enough: a backend reuses its data key (and header) for many blobs.
            self._last = (key, key_header, header, context)
        encrypted = self._mode is Mode.ENCRYPTED
        blobs = []
        for plaintext in plaintexts:
            if encrypted:
                nonce = os.urandom(_NONCE_LENGTH)
                sealed = header + nonce + data_key.aead.encrypt(nonce, plaintext, context)
            else:
                sealed = header + plaintext + data_key.mac(context + plaintext)[:_TAG_LENGTH]
            blob = (
                binascii.b2a_base64(sealed, newline=False)
                .translate(_TO_URLSAFE)
                .rstrip(b"=")
                .decode("ascii")
            )
            if len(blob) > MAX_BLOB_LENGTH:
                raise PayloadTooLarge(
                    f"The sealed action is {len(blob)} characters long; at most "
                    f"{MAX_BLOB_LENGTH} fit in a URL. Make the output or response smaller."
                )
            blobs.append(blob)
        return blobs

    # -- opening ---------------------------------------------------------------------------

    def open(self, blob: str, *, now: datetime | None = None, check_expiry: bool = True) -> Claims:
        """Verify ``blob`` and return its claims.

        Args:
            blob: the ``data`` query parameter of a callback URL.
            now: the time to check expiry against (default: the wall clock).
            check_expiry: ``False`` returns the claims of an expired blob (for inspection
                tools); never use it to decide whether to complete a task.

        Raises:
            PayloadTooLarge: the blob is longer than any we mint.
            InvalidPayload: the blob is not authentic for this codec's keys, mode and purpose,
                whatever the reason (one error, one message: no oracle).
            ExpiredPayload: the blob is authentic but expired.
            KeyUnavailable: the key backend failed (e.g. KMS is down or the key is disabled).
        """
        claims = self._open(blob)
        if check_expiry:
            claims.check_expiry(checked_now(now), self.leeway)
        return claims

    def _open(self, blob: str) -> Claims:
        if not isinstance(blob, str):
            raise InvalidPayload
        if len(blob) > MAX_BLOB_LENGTH:
            raise PayloadTooLarge
        raw = _b64decode_canonical(blob)
        # Every refusal below is the same InvalidPayload: no oracle.
        if not raw or raw[0] != ((_VERSION << 4) | self._mode):
            raise InvalidPayload
        parts = _header_parts(raw)
        if parts is None:
            raise InvalidPayload
        key_id, key_header, kh_end = parts
        key = self._keyring.get(key_id)
        if key is None:
            raise InvalidPayload
        header = raw[:kh_end]
        data_key = key.open_key(key_header, self._purpose)
        context = self._context_prefix + header
        if self._mode is Mode.ENCRYPTED:
            if len(raw) < kh_end + _NONCE_LENGTH + _TAG_LENGTH:
                raise InvalidPayload
            nonce = raw[kh_end : kh_end + _NONCE_LENGTH]
            try:
                plaintext = data_key.aead.decrypt(nonce, raw[kh_end + _NONCE_LENGTH :], context)
            except InvalidTag:
                raise InvalidPayload from None
        else:
            if len(raw) < kh_end + _TAG_LENGTH:
                raise InvalidPayload
            plaintext, tag = raw[kh_end:-_TAG_LENGTH], raw[-_TAG_LENGTH:]
            if not hmac.compare_digest(data_key.mac(context + plaintext)[:_TAG_LENGTH], tag):
                raise InvalidPayload
        return _decode_plaintext(plaintext)

    def __repr__(self) -> str:
        return f"Codec({self._keyring!r}, mode={self._mode.name}, purpose={self.purpose!r})"


def _header_parts(raw: bytes) -> tuple[bytes, bytes, int] | None:
    """``(kid, kh, where the sealed part starts)`` of a blob's header; ``None`` if cut short.

    The grammar's ``format(1) || len(kid)(1) || kid || len(kh)(1) || kh`` (the module docstring),
    read in this one place; the format byte is the caller's to judge.
    """
    if len(raw) < 3:
        return None
    kid_end = 2 + raw[1]
    if raw[1] == 0 or len(raw) <= kid_end:
        return None
    kh_end = kid_end + 1 + raw[kid_end]
    if len(raw) < kh_end:
        return None
    return raw[2:kid_end], raw[kid_end + 1 : kh_end], kh_end


def _b64decode_canonical(blob: str) -> bytes:
    """Strict base64url: only the alphabet, no padding, and no ignored trailing bits.

    The decoder skips characters outside the alphabet and ignores unused trailing bits, so both
    are refused first: otherwise two different strings could decode to the same bytes and a
    one-character change could go unnoticed. (Equivalent to requiring that re-encoding the bytes
    gives the blob back, which ``tests/test_codec.py`` checks; cheaper.)
    """
    try:
        text = blob.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidPayload from None
    tail = len(text) % 4
    if tail == 1 or text.translate(None, _URLSAFE_ALPHABET):  # a length no bytes have; a stray
        raise InvalidPayload
    # The last character's unused low bits: 4 of them after 1 byte (2 characters), 2 after 2.
    if tail and _URLSAFE_VALUES[text[-1]] & (0x0F if tail == 2 else 0x03):
        raise InvalidPayload
    try:
        return binascii.a2b_base64(text.translate(_FROM_URLSAFE) + _PADDING[tail])
    except (binascii.Error, ValueError):  # pragma: no cover - the checks above rule it out
        raise InvalidPayload from None


_NOT_UNICODE = "The token or action is not valid Unicode text."


def _encode_token(token: str) -> tuple[int, bytes]:
    """``(flags, bytes)`` of a token as the plaintext stores it.

    Raises:
        InvalidRequest: the token is not UTF-8 text (a lone surrogate in hand-built claims).
        PayloadTooLarge: it is longer than its 2-byte length field allows.
    """
    # Canonical standard base64 iff decoding (which skips stray characters) and re-encoding
    # gives the token back; then its bytes are stored, a quarter shorter than its text.
    flag = 0
    try:
        stored = token.encode("ascii")
    except UnicodeEncodeError:
        try:
            stored = token.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest(_NOT_UNICODE) from None
    else:
        try:
            raw = binascii.a2b_base64(stored)
        except (binascii.Error, ValueError):
            raw = b""
        if raw and binascii.b2a_base64(raw, newline=False) == stored:
            flag, stored = _FLAG_TOKEN_RAW, raw
    if len(stored) > 0xFFFF:
        raise PayloadTooLarge("The task token is too long.")
    return flag, stored


def _encode_action(action: Action) -> tuple[int, bytes]:
    """``(flags, bytes)`` of an action as the plaintext stores it (maybe deflated).

    Raises:
        InvalidRequest: the action holds text that is not UTF-8 (hand-built claims).
        PayloadTooLarge: its JSON is more than `open()` would inflate.
    """
    # exclude_defaults drops ``type`` (it has its byte) and every unset optional field.
    # The serializer itself: model_dump_json's wrapper costs a third of the call.
    try:
        data = action.__pydantic_serializer__.to_json(action, by_alias=True, exclude_defaults=True)
    except PydanticSerializationError:
        raise InvalidRequest(_NOT_UNICODE) from None
    if len(data) > MAX_DECOMPRESSED_SIZE:
        # open() would refuse it (the inflate cap), so never mint a URL that cannot work.
        raise PayloadTooLarge(
            f"The action is {len(data)} bytes of JSON; at most {MAX_DECOMPRESSED_SIZE} fit."
        )
    if len(data) >= _COMPRESS_THRESHOLD:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        deflated = packer.compress(data) + packer.flush()
        if len(deflated) < len(data):
            return _FLAG_DEFLATED, deflated
    return 0, data


def _plaintext(
    token: tuple[int, bytes],
    action: Action,
    transaction_id: bytes,
    issued_at: int,
    expires_at: int,
    output_parameters: bool,
) -> bytes:
    """The plaintext of the format (module docstring) from its encoded parts."""
    token_flag, token_bytes = token
    action_flag, action_bytes = _encode_action(action)
    flags = token_flag | action_flag | (_FLAG_OUTPUT_PARAMETERS if output_parameters else 0)
    fixed = _FIXED.pack(
        flags,
        _TYPE_CODES[action.type],
        transaction_id,
        issued_at,
        expires_at,
        len(token_bytes),
    )
    return fixed + token_bytes + action_bytes


def _decode_plaintext(plaintext: bytes) -> Claims:
    # The plaintext is authentic here, so a failure means a bug or a format we don't speak;
    # still, nothing but our own errors may escape.
    try:
        flags, type_code, tid, iat, exp, token_length = _FIXED.unpack_from(plaintext)
        action_class = _ACTION_CLASSES.get(type_code)
        if flags & ~_KNOWN_FLAGS or action_class is None:
            raise InvalidPayload
        start = _FIXED.size
        token_bytes = plaintext[start : start + token_length]
        if len(token_bytes) != token_length:
            raise InvalidPayload
        action_bytes = plaintext[start + token_length :]
        if flags & _FLAG_DEFLATED:
            action_bytes = _inflate(action_bytes)
        if flags & _FLAG_TOKEN_RAW:
            token = base64.b64encode(token_bytes).decode("ascii")
        else:
            token = token_bytes.decode("utf-8")
        # The validator itself: model_validate_json's wrapper costs a fifth of the call.
        action: Action = action_class.__pydantic_validator__.validate_json(action_bytes)
        return Claims.trusted(
            token,
            action,
            uuid_text(tid),
            datetime.fromtimestamp(iat, timezone.utc),
            None if exp == 0 else datetime.fromtimestamp(exp, timezone.utc),
            bool(flags & _FLAG_OUTPUT_PARAMETERS),
        )
    except SfnCallbackUrlsError:
        raise InvalidPayload from None
    except (struct.error, UnicodeDecodeError, ValueError, pydantic.ValidationError):
        raise InvalidPayload from None


def _uuid_bytes(text: str) -> bytes:
    """The 16 bytes of a canonical UUID string (`is_transaction_id` holds)."""
    return bytes.fromhex(text.replace("-", ""))


def _shared_parts(claims: Claims) -> tuple[str, datetime, datetime | None, bool]:
    """What `seal_actions()` takes once for several actions: claims equal in it seal together."""
    return claims.transaction_id, claims.issued_at, claims.expires_at, claims.output_parameters


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_SIZE)
    except zlib.error:
        raise InvalidPayload from None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise InvalidPayload
    return out


def refusal_hints(codec: Codec, blob: str) -> list[str]:
    """What to check when ``codec`` refuses ``blob``: for the key holder's tools, never HTTP.

    `Codec.open()` says "invalid" and nothing more, on purpose: an attacker must learn nothing.
    Whoever holds the keys (``sfn-callback-urls inspect``) may learn which part did not fit:
    the format, the mode, the key id, or a blob cut short. Reading the header needs no key;
    nothing here decrypts or verifies anything.
    """
    if blob.startswith(("1-", "2-")):
        return [
            "This is a URL minted by the original sfn-callback-urls app (format "
            f"{blob[:2]!r}); this library opens only its own format (see docs/migrating.md)."
        ]
    try:
        raw = _b64decode_canonical(blob)
    except InvalidPayload:
        return [
            "The blob is not valid URL-safe base64: it was altered, or cut short (mail clients "
            "and chat apps break long links; copy the whole link)."
        ]
    if len(raw) < 3:
        return ["The blob is too short to hold a header: it was cut short."]
    version, mode = raw[0] >> 4, raw[0] & 0x0F
    if version != _VERSION or mode not in (Mode.ENCRYPTED, Mode.SIGNED):
        return [f"The blob is not in a format this version knows (format byte 0x{raw[0]:02x})."]
    hints: list[str] = []
    if mode != codec.mode:
        hints.append(
            f"The blob was sealed in {Mode(mode).name.lower()} mode; this codec opens "
            f"{codec.mode.name.lower()} blobs only (SFN_CALLBACK_URLS_MODE, --mode)."
        )
    parts = _header_parts(raw)
    if parts is None:
        return [*hints, "The blob is shorter than its header says: it was cut short."]
    key_id, _, kh_end = parts
    if codec.keyring.get(key_id) is None:
        known = ", ".join(key.key_id.hex() for key in codec.keyring)
        hints.append(
            f"The blob was sealed under key id {key_id.hex()}, which is not in this keyring "
            f"({known}): configure the key that minted it (SFN_CALLBACK_URLS_KEY, KEY_ID, ...)."
        )
    minimum = _TAG_LENGTH + _FIXED.size + (_NONCE_LENGTH if mode == Mode.ENCRYPTED else 0)
    if len(raw) < kh_end + minimum:
        return [*hints, "The blob is shorter than its header says: it was cut short."]
    if not hints:
        hints.append(
            "The key id and mode match, so either the purpose differs (this codec's purpose is "
            f"{codec.purpose!r}: SFN_CALLBACK_URLS_PURPOSE, --purpose), or the blob was altered "
            "or cut short after its header (compare its length with the link as sent)."
        )
    return hints
