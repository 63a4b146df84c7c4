"""Example-based tests of the sealed blob's wire format (``codec.py``) and of local keys.

``tests/vectors/v1.json`` holds frozen blobs built with fixed keys and nonces. Every codec, now
and later, must open them to exactly the recorded claims: that pins format version 1 forever.
"""

from __future__ import annotations

import base64
import json
import math
import random
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import (  # tests/ is on sys.path
    BENCH_TOKEN,
    FIXED,
    KEY,
    KEY_SECRET,
    associated_data,
    b64url,
    sealed_plaintext,
    unb64url,
    wire_header,
)
from sfn_callback_urls._claims import Claims
from sfn_callback_urls._codec import Codec, Mode, _b64decode_canonical
from sfn_callback_urls._models import (
    ACTION_ADAPTER,
    Action,
    FailureAction,
    HeartbeatAction,
    SuccessAction,
)
from sfn_callback_urls._time import wire_seconds, wire_time
from sfn_callback_urls._urls import CallbackQuery, Minter, open_callback
from sfn_callback_urls.errors import ConfigurationError, InvalidPayload, InvalidRequest
from sfn_callback_urls.keys import DataKey, Keyring, LocalKey
from sfn_callback_urls.testing import actions, task_tokens

VECTORS_FILE = Path(__file__).parent / "vectors" / "v1.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"]

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
TID = "7d0c4a52-0d6e-4f3b-8f0e-2b8f1c9f4a10"
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
BLOG_APPROVE = SuccessAction(name="approve", output={"name_in_output": "Ben"})
BLOG_REJECT = FailureAction(name="reject", error="rejected", cause="Ben rejected it")

# The layout of version 1, written out again from codec.py's docstring (not imported); FIXED,
# the header and the associated data are in helpers.py.
FLAG_TOKEN_RAW, FLAG_DEFLATED, FLAG_OUTPUT_PARAMETERS = 0x01, 0x02, 0x04
TYPE_CODES = {"success": 1, "failure": 2, "heartbeat": 3, "post": 4}
NONCE, TAG = 12, 16


def utc(text: str | None) -> datetime | None:
    """Parse the vectors' ``...Z`` timestamps."""
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def vector_claims(vector: dict[str, Any]) -> Claims:
    """The claims a vector must open to."""
    claims = vector["claims"]
    issued_at = utc(claims["issued_at"])
    assert issued_at is not None
    return Claims(
        token=claims["token"],
        action=ACTION_ADAPTER.validate_python(claims["action"]),
        transaction_id=claims["transaction_id"],
        issued_at=issued_at,
        expires_at=utc(claims["expires_at"]),
        output_parameters=claims["output_parameters"],
    )


def vector_codec(vector: dict[str, Any]) -> Codec:
    """A codec with the vector's key, mode and purpose."""
    key = LocalKey.from_string(vector["key"])
    return Codec(key, mode=Mode[vector["mode"]], purpose=vector["purpose"])


def open_by_hand(blob: str, key: LocalKey, mode: Mode, purpose: str = "sfn-callback-urls") -> bytes:
    """The plaintext of a local-key blob, opened following the format, not the codec."""
    raw = unb64url(blob)
    head = wire_header(mode, key.key_id)
    assert raw.startswith(head)
    _, data_key = key.mint_key(purpose)
    if mode is Mode.ENCRYPTED:
        nonce = raw[len(head) : len(head) + NONCE]
        return data_key.aead.decrypt(
            nonce, raw[len(head) + NONCE :], associated_data(purpose, head)
        )
    plaintext, tag = raw[len(head) : -TAG], raw[-TAG:]
    assert data_key.mac(associated_data(purpose, head) + plaintext)[:TAG] == tag
    return plaintext


def split_plaintext(plaintext: bytes) -> tuple[tuple[Any, ...], bytes, bytes]:
    """``(fixed fields, token bytes, action JSON)``, the action inflated if it was deflated."""
    fields = FIXED.unpack_from(plaintext)
    token_length = fields[-1]
    token = plaintext[FIXED.size : FIXED.size + token_length]
    action = plaintext[FIXED.size + token_length :]
    if fields[0] & FLAG_DEFLATED:
        action = zlib.decompress(action, -15)
    return fields, token, action


def is_canonical_base64(token: str) -> bool:
    """Whether ``token`` is exactly the standard, padded base64 of some bytes."""
    try:
        return base64.b64encode(base64.b64decode(token, validate=True)).decode() == token
    except ValueError:
        return False


def deflate(data: bytes) -> bytes:
    """Raw deflate at level 9, as the format uses."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def action_json(action: Action) -> bytes:
    """The action as the format writes it: compact JSON without ``type`` and defaults."""
    return action.model_dump_json(by_alias=True, exclude_defaults=True).encode("utf-8")


def claims_with(
    token: str = "t",  # noqa: S107 - a test token, not a password
    action: Action = BLOG_APPROVE,
    **changes: Any,
) -> Claims:
    """Claims for tests of one aspect of the format."""
    return Claims(
        token=token,
        action=action,
        transaction_id=changes.pop("transaction_id", TID),
        issued_at=changes.pop("issued_at", NOW),
        **changes,
    )


# --- frozen vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_opens_to_its_claims(vector: dict[str, Any]) -> None:
    """Each frozen version 1 blob opens, with its key, mode and purpose, to its recorded claims."""
    claims = vector_claims(vector)
    codec = vector_codec(vector)
    assert codec.open(vector["blob"], now=claims.issued_at) == claims
    assert codec.open(vector["blob"], check_expiry=False) == claims


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_is_assembled_as_the_format_says(vector: dict[str, Any]) -> None:
    """Header, associated data and sealing, done by hand from the spec, give the frozen blob."""
    key = LocalKey.from_string(vector["key"])
    mode = Mode[vector["mode"]]
    plaintext = bytes.fromhex(vector["plaintext"])
    head = wire_header(mode, key.key_id)
    _, data_key = key.mint_key(vector["purpose"])
    aad = associated_data(vector["purpose"], head)
    if mode is Mode.ENCRYPTED:
        nonce = bytes.fromhex(vector["nonce"])
        sealed = nonce + data_key.aead.encrypt(nonce, plaintext, aad)
    else:
        sealed = plaintext + data_key.mac(aad + plaintext)[:TAG]
    assert b64url(head + sealed) == vector["blob"]
    assert open_by_hand(vector["blob"], key, mode, vector["purpose"]) == plaintext


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_plaintext_follows_the_format(vector: dict[str, Any]) -> None:
    """Each plaintext field holds what the spec says: flags, type, tid, times, token, action."""
    claims = vector_claims(vector)
    (flags, type_code, tid, iat, exp, _), token, action = split_plaintext(
        bytes.fromhex(vector["plaintext"])
    )
    assert flags == vector["flags"]
    raw_token = is_canonical_base64(claims.token)
    assert bool(flags & FLAG_TOKEN_RAW) is raw_token
    assert bool(flags & FLAG_OUTPUT_PARAMETERS) is claims.output_parameters
    assert token == (base64.b64decode(claims.token) if raw_token else claims.token.encode())
    assert type_code == TYPE_CODES[claims.action.type]
    assert uuid.UUID(bytes=tid) == uuid.UUID(claims.transaction_id)
    assert iat == claims.issued_at.timestamp()
    assert exp == (0 if claims.expires_at is None else claims.expires_at.timestamp())
    decoded = json.loads(action)
    assert "type" not in decoded
    assert type(claims.action).model_validate(decoded) == claims.action


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_current_encoder_writes_the_vectors(vector: dict[str, Any]) -> None:
    """Today's encoder writes the frozen plaintexts, so old handlers open new blobs (rollouts)."""
    frozen = bytes.fromhex(vector["plaintext"])
    current = sealed_plaintext(vector_claims(vector))
    if frozen[0] & FLAG_DEFLATED:
        # Deflate's exact bytes depend on the zlib build; what it inflates to does not.
        assert split_plaintext(current) == split_plaintext(frozen)
    else:
        assert current == frozen


def test_vectors_cover_the_format() -> None:
    """The vectors cover both modes, every flag, two keys and purposes, and the time limits."""
    assert {v["mode"] for v in VECTORS} == {"ENCRYPTED", "SIGNED"}
    flags = {v["flags"] for v in VECTORS}
    for flag in (FLAG_TOKEN_RAW, FLAG_DEFLATED, FLAG_OUTPUT_PARAMETERS):
        assert any(f & flag for f in flags)
    assert any(not f & FLAG_TOKEN_RAW for f in flags)
    assert {vector_claims(v).action.type for v in VECTORS} == set(TYPE_CODES)
    assert len({v["key"] for v in VECTORS}) == len({v["purpose"] for v in VECTORS}) == 2
    times = {t for v in VECTORS for t in (v["claims"]["issued_at"], v["claims"]["expires_at"])}
    assert {"1970-01-01T00:00:01Z", "2106-02-07T06:28:15Z", None} <= times
    assert any(v["claims"]["token"] == BENCH_TOKEN for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_is_bound_to_its_key_mode_and_purpose(vector: dict[str, Any]) -> None:
    """A frozen blob is refused under another purpose, the other mode or another key."""
    key = LocalKey.from_string(vector["key"])
    mode = Mode[vector["mode"]]
    others = [
        Codec(key, mode=mode, purpose=vector["purpose"] + "/other"),
        Codec(key, mode=Mode.SIGNED if mode is Mode.ENCRYPTED else Mode.ENCRYPTED),
        Codec(LocalKey(bytes(32), key_id=key.key_id), mode=mode, purpose=vector["purpose"]),
    ]
    for codec in others:
        with pytest.raises(InvalidPayload):
            codec.open(vector["blob"], check_expiry=False)


# --- the minter's path -----------------------------------------------------------------------


@given(
    token=task_tokens(),
    action_list=st.lists(actions(), min_size=1, max_size=3, unique_by=lambda a: a.name),
    expires_in=st.none() | st.integers(min_value=1, max_value=10**8),
    output_parameters=st.booleans(),
    microsecond=st.integers(min_value=0, max_value=999_999),
)
def test_minted_blobs_are_the_blobs_seal_makes_of_their_claims(
    token: str,
    action_list: list[Action],
    expires_in: int | None,
    output_parameters: bool,
    microsecond: int,
) -> None:
    """Minter.mint seals without building Claims; its blobs are byte for byte seal()'s."""
    codec = Codec(KEY, mode=Mode.SIGNED)  # no nonce: equal claims seal to equal blobs
    now = NOW.replace(microsecond=microsecond)
    expires_at = None if expires_in is None else now + timedelta(seconds=expires_in)
    urls = (
        Minter(codec, BASE_URL)
        .mint(
            token,
            action_list,
            expires_at=expires_at,
            enable_output_parameters=output_parameters,
            now=now,
        )
        .urls
    )
    for action in action_list:
        blob = CallbackQuery.parse(urls[action.name]).data
        claims = codec.open(blob, now=now)
        assert claims.action == action
        assert claims.issued_at == now.replace(microsecond=0)
        assert claims.expires_at == (
            None if expires_at is None else expires_at.replace(microsecond=0)
        )
        assert claims.output_parameters is output_parameters
        assert codec.seal(claims) == blob
        assert codec.seal_many([claims]) == [blob]


@given(
    st.datetimes(
        min_value=datetime(1969, 12, 31, 23, 59),
        max_value=datetime(2106, 2, 8),
        timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))]
        ),
    )
)
def test_wire_times_are_utc_whole_seconds_from_1970_to_2106(value: datetime) -> None:
    """The minter's integer times and Claims' datetimes: UTC, cut to the second, 1 s..2**32-1 s."""
    expected = value.astimezone(timezone.utc).replace(microsecond=0)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if not timedelta(seconds=1) <= expected - epoch <= timedelta(seconds=2**32 - 1):
        for wire in (wire_seconds, wire_time):
            with pytest.raises(InvalidRequest, match="t: must lie between 1970 and 2106"):
                wire("t", value)
    else:
        assert wire_time("t", value) == expected
        assert wire_time("t", value).tzinfo is timezone.utc
        assert wire_seconds("t", value) == (expected - epoch) // timedelta(seconds=1)


def test_wire_seconds_refuse_naive_times() -> None:
    """A naive datetime is refused as wire_time refuses it, naming the field."""
    with pytest.raises(InvalidRequest, match="expires_at: must be timezone-aware"):
        wire_seconds("expires_at", datetime(2026, 1, 1))


# --- token encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [BENCH_TOKEN, "QUJD", "QUI=", "QQ==", "AAAAKgAAAAI=", "+/+/"],
)
@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_canonical_base64_tokens_travel_as_raw_bytes(token: str, mode: Mode) -> None:
    """A token that is canonical standard base64 is stored as its decoded bytes."""
    codec = Codec(KEY, mode=mode)
    claims = claims_with(token)
    blob = codec.seal(claims)
    (flags, *_), stored, _ = split_plaintext(open_by_hand(blob, KEY, mode))
    assert flags & FLAG_TOKEN_RAW
    assert stored == base64.b64decode(token)
    assert codec.open(blob, now=NOW).token == token


@pytest.mark.parametrize(
    "token",
    [
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",  # moto's uuids
        "QUJ",  # not a multiple of 4
        "QUJ=",  # non-zero trailing bits: decodes, but re-encodes as QUI=
        "QR==",
        "QUJDRA",  # padding left out
        "QUJD====",
        "-_-_",  # URL-safe alphabet
        "QUJD\n",
        " QUJD",
        "tökén",
        BENCH_TOKEN.replace("+", "-"),
        BENCH_TOKEN.rstrip("="),
    ],
)
def test_other_tokens_travel_as_text(token: str) -> None:
    """Any other token is stored as its UTF-8 text, and comes back unchanged."""
    assert not is_canonical_base64(token)
    codec = Codec(KEY)
    blob = codec.seal(claims_with(token))
    (flags, *_), stored, _ = split_plaintext(open_by_hand(blob, KEY, Mode.ENCRYPTED))
    assert not flags & FLAG_TOKEN_RAW
    assert stored == token.encode("utf-8")
    assert codec.open(blob, now=NOW).token == token


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_blob_length_follows_the_token_encoding(mode: Mode) -> None:
    """A 684-char canonical token costs 512 bytes in a blob; the same length as text costs 684."""
    overhead = {Mode.ENCRYPTED: NONCE + TAG, Mode.SIGNED: TAG}[mode] + len(
        wire_header(mode, KEY.key_id)
    )
    text_token = BENCH_TOKEN.replace("+", "-").replace("/", "_")  # same length, URL-safe: text
    assert len(text_token) == len(BENCH_TOKEN) == 684
    codec = Codec(KEY, mode=mode)
    lengths = {}
    for token, stored in ((BENCH_TOKEN, 512), (text_token, 684)):
        blob = codec.seal(claims_with(token))
        plain = FIXED.size + stored + len(action_json(BLOG_APPROVE))
        assert len(blob) == math.ceil((overhead + plain) * 4 / 3)
        lengths[token] = len(blob)
    assert lengths[text_token] - lengths[BENCH_TOKEN] in (229, 230)


# --- compression ---------------------------------------------------------------------------------


def test_short_actions_are_not_compressed() -> None:
    """An action under 96 bytes of JSON is stored as is, however repetitive."""
    action = SuccessAction(name="a", output="x" * 60)
    assert len(action_json(action)) < 96
    (flags, *_), _, stored = split_plaintext(sealed_plaintext(claims_with(action=action)))
    assert not flags & FLAG_DEFLATED
    assert stored == action_json(action)


def test_compressible_actions_are_deflated_and_shorter() -> None:
    """A long repetitive action is deflated, and the blob is shorter than without deflate."""
    action = SuccessAction(name="a", output={"items": ["the same words again"] * 40})
    claims = claims_with(action=action)
    plaintext = sealed_plaintext(claims)
    assert plaintext[0] & FLAG_DEFLATED
    uncompressed = FIXED.size + len(b"t") + len(action_json(action))
    assert len(plaintext) < uncompressed
    blob = Codec(KEY).seal(claims)
    overhead = len(wire_header(Mode.ENCRYPTED, KEY.key_id)) + NONCE + TAG
    assert len(blob) < math.ceil((overhead + uncompressed) * 4 / 3)
    assert Codec(KEY).open(blob, now=NOW) == claims


def test_incompressible_actions_are_stored_as_is() -> None:
    """A long action that deflate cannot shorten is stored as is."""
    alphabet = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')
    rng = random.Random(7)  # noqa: S311 - reproducible noise, not a secret
    noise = "".join(rng.choice(alphabet) for _ in range(100))
    action = SuccessAction(name="a", output=noise)
    raw = action_json(action)
    assert len(raw) >= 96
    assert len(deflate(raw)) >= len(raw)  # the premise of this example
    (flags, *_), _, stored = split_plaintext(sealed_plaintext(claims_with(action=action)))
    assert not flags & FLAG_DEFLATED
    assert stored == raw


@given(action=actions())
def test_deflate_is_used_exactly_when_it_is_shorter(action: Action) -> None:
    """For any action: deflated iff its JSON has >= 96 bytes and deflate makes it shorter."""
    raw = action_json(action)
    (flags, *_), _, stored = split_plaintext(sealed_plaintext(claims_with(action=action)))
    assert bool(flags & FLAG_DEFLATED) is (len(raw) >= 96 and len(deflate(raw)) < len(raw))
    assert stored == raw


# --- the benchmark: a real token in an e-mail link -----------------------------------------------


def test_benchmark_token_fits_an_outlook_link() -> None:
    """The 684-char token with the blog's approve action: blob <= 900, URL <= 1,024 characters."""
    assert len(BENCH_TOKEN) == 684
    assert BENCH_TOKEN.startswith("AAAAKgAAAAIAAAAAAAAAA")
    for mode in (Mode.ENCRYPTED, Mode.SIGNED):
        codec = Codec(KEY, mode=mode)
        response = Minter(codec, base_url=BASE_URL).mint(
            BENCH_TOKEN, [BLOG_APPROVE, BLOG_REJECT], expires_in=timedelta(days=7), now=NOW
        )
        url = response.urls["approve"]
        blob = CallbackQuery.parse(url).data
        assert len(blob) <= 900
        assert len(url) <= 1024
        assert open_callback(codec, url, now=NOW).claims.token == BENCH_TOKEN


# --- local keys ----------------------------------------------------------------------------------


def test_local_key_string_round_trip() -> None:
    """A key written with to_string loads back as the same key (same id, same blobs)."""
    for key in (KEY, LocalKey.generate()):
        text = key.to_string()
        assert text.startswith("sfncu1_")
        loaded = LocalKey.from_string(text)
        assert loaded.key_id == key.key_id
        assert loaded.to_string() == text
        assert Codec(loaded).open(Codec(key).seal(claims_with()), now=NOW) == claims_with()
    assert LocalKey.from_string(f"  {KEY.to_string()}\n").key_id == KEY.key_id


def assert_no_piece_of(secret: str, message: str, piece: int = 6) -> None:
    """``message`` holds no ``piece``-character stretch of ``secret``."""
    for i in range(len(secret) - piece + 1):
        assert secret[i : i + piece] not in message


def damaged_key_strings() -> list[str]:
    """Every one-character change (to a URL-safe character) and every truncation of KEY."""
    text = KEY.to_string()
    start = len("sfncu1_")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changed = [
        text[:i] + ch + text[i + 1 :]
        for i in range(start, len(text))
        for ch in alphabet
        if ch != text[i]
    ]
    truncated = [text[:i] for i in range(len(text))]
    return changed + truncated


def test_damaged_local_key_strings_are_refused_quietly() -> None:
    """Any changed character or truncation is a ConfigurationError that does not echo the string."""
    text = KEY.to_string()
    body = text[len("sfncu1_") :]
    for damaged in damaged_key_strings():
        with pytest.raises(ConfigurationError) as caught:
            LocalKey.from_string(damaged)
        assert_no_piece_of(body, str(caught.value))


@pytest.mark.parametrize(
    "text",
    [
        "sfncu2_" + KEY.to_string()[7:],
        "SFNCU1_" + KEY.to_string()[7:],
        "sfncu1" + KEY.to_string()[7:],
        KEY.to_string()[7:],
        "",
        "sfncu1_",
        "sfncu1_" + "é" * 52,
        "sfncu1_" + KEY.to_string()[7:] + "AAAA",
    ],
)
def test_malformed_local_key_strings_are_refused(text: str) -> None:
    """A wrong prefix, a foreign alphabet or a wrong length is a ConfigurationError."""
    with pytest.raises(ConfigurationError) as caught:
        LocalKey.from_string(text)
    assert_no_piece_of(text[7:], str(caught.value))
    with pytest.raises(ConfigurationError):
        Keyring.from_string(f"{LocalKey.generate().to_string()},{text or 'x'}")


def test_local_key_limits() -> None:
    """Secrets are 32 bytes and key ids 1 to 32 bytes; only 4-byte ids have a string form."""
    for secret in (b"", bytes(31), bytes(33)):
        with pytest.raises(ConfigurationError):
            LocalKey(secret)
    for key_id in (b"", bytes(33)):
        with pytest.raises(ConfigurationError):
            LocalKey(KEY_SECRET, key_id=key_id)
    with pytest.raises(ConfigurationError):
        LocalKey(KEY_SECRET, key_id=b"eight ids").to_string()
    assert LocalKey(KEY_SECRET).key_id == LocalKey(KEY_SECRET).key_id  # derived, deterministic


# --- what reprs never show -----------------------------------------------------------------------


def test_reprs_never_show_secrets_or_tokens() -> None:
    """The repr and str of keys, keyrings, codecs, claims and queries hide every secret."""
    token = BENCH_TOKEN
    claims = claims_with(token)
    codec = Codec(Keyring([KEY, LocalKey.generate()]))
    blob = codec.seal(claims)
    query = CallbackQuery.parse(f"action=approve&data={blob}")
    secrets = [
        KEY_SECRET.hex(),
        b64url(KEY_SECRET)[:20],
        KEY.to_string(),
        KEY.to_string()[7:27],
        repr(KEY_SECRET)[2:20],
        token,
        token[:20],
        blob,
        blob[:20],
    ]
    objects = [
        KEY,
        codec.keyring,
        DataKey(KEY_SECRET),
        KEY.mint_key("p")[1],
        codec,
        Codec(KEY, mode=Mode.SIGNED),
        claims,
        query,
        open_callback(codec, query, now=NOW),
        HeartbeatAction(name="h"),
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            for secret in secrets:
                assert secret not in text, type(obj).__name__
    assert KEY.key_id.hex() in repr(KEY)


_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(
    st.one_of(
        st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
        st.text(alphabet=_URLSAFE + "=+/ \n", max_size=40),
        st.text(max_size=12),
    )
)
def test_a_blob_decodes_iff_re_encoding_gives_it_back(text: str) -> None:
    """Blob base64 is accepted exactly when it is the canonical unpadded base64url of its bytes."""
    try:
        raw = _b64decode_canonical(text)
    except InvalidPayload:
        raw = None
    if raw is None:
        try:
            canonical = base64.urlsafe_b64encode(base64.urlsafe_b64decode(text + "==="))
        except (ValueError, UnicodeEncodeError):
            return
        assert canonical.rstrip(b"=").decode() != text
    else:
        assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text


@pytest.mark.parametrize("mode", list(Mode))
def test_a_blob_with_padding_added_is_refused(mode: Mode) -> None:
    """Appending '=' or '==' to a blob (whatever its length modulo 4) never opens it."""
    codec = Codec(KEY, mode=mode)
    seen = set()
    for length in range(1, 40):  # outputs of several lengths: every remainder modulo 4
        claims = Claims(
            token="t" * length,
            action=BLOG_APPROVE,
            transaction_id=TID,
            issued_at=NOW,
            expires_at=NOW + timedelta(days=1),
        )
        blob = codec.seal(claims)
        seen.add(len(blob) % 4)
        assert codec.open(blob, now=NOW) == claims
        for padding in ("=", "==", "==="):
            with pytest.raises(InvalidPayload):
                codec.open(blob + padding, now=NOW)
    assert seen == {0, 2, 3}  # base64 without padding is never 1 more than a multiple of 4


@pytest.mark.parametrize("mode", list(Mode))
def test_a_blob_with_unused_bits_set_is_refused(mode: Mode) -> None:
    """A last character that decodes to the same bytes (unused bits set) never opens the blob."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    codec = Codec(KEY, mode=mode)
    tried = 0
    for length in range(1, 12):
        claims = Claims(token="t" * length, action=BLOG_APPROVE, transaction_id=TID, issued_at=NOW)
        blob = codec.seal(claims)
        unused = {0: 0, 2: 0x0F, 3: 0x03}[len(blob) % 4]
        value = alphabet.index(blob[-1])
        for bits in range(1, unused + 1):
            twin = blob[:-1] + alphabet[value | bits]
            if twin != blob and base64.urlsafe_b64decode(twin + "=" * (-len(twin) % 4)) == (
                base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
            ):
                tried += 1
                with pytest.raises(InvalidPayload):
                    codec.open(twin, now=NOW)
    assert tried > 0


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
@pytest.mark.parametrize("where", ["token", "output"])
def test_claims_built_by_hand_with_a_lone_surrogate_are_refused_by_every_seal(
    mode: Mode, where: str
) -> None:
    """seal() and seal_many() both refuse a lone surrogate with InvalidRequest, never a crash."""
    action = SuccessAction.model_construct(  # around the model's checks, as by hand
        name="approve", output="x\ud800" if where == "output" else {"ok": True}
    )
    claims = Claims(
        token="QUJD\ud800" if where == "token" else "QUJD",
        action=action,
        transaction_id=TID,
        issued_at=NOW,
    )
    codec = Codec(KEY, mode=mode)
    for seal in (lambda: codec.seal(claims), lambda: codec.seal_many([claims])):
        with pytest.raises(InvalidRequest, match="not valid Unicode text"):
            seal()


class _CountingKey(LocalKey):
    """The test key, counting how often a data key is asked for."""

    asked = 0

    def mint_key(self, purpose: str) -> tuple[bytes, DataKey]:
        type(self).asked += 1
        return super().mint_key(purpose)


def test_seal_actions_is_seal_of_each_action_and_seal_many_is_built_on_it() -> None:
    """seal_actions() gives each action's seal() blob; seal_many() seals runs of shared parts."""
    codec = Codec(KEY, mode=Mode.SIGNED)  # signed blobs are deterministic: compare the bytes
    approve = SuccessAction(name="approve", output={"ok": True})
    reject = FailureAction(name="reject", error="No")
    expires = NOW + timedelta(days=7, microseconds=5)
    blobs = codec.seal_actions(
        "QUJD", [approve, reject], transaction_id=TID, issued_at=NOW, expires_at=expires
    )
    each = [Claims("QUJD", action, TID, NOW, expires) for action in (approve, reject)]
    assert blobs == [codec.seal(claims) for claims in each]
    # Two runs (the second claim has another issue time): each blob as seal() makes it.
    mixed = [each[0], Claims("QUJD", reject, TID, NOW + timedelta(seconds=1), None, True)]
    assert codec.seal_many(mixed) == [codec.seal(claims) for claims in mixed]
    assert codec.seal_many([]) == []


def test_seal_many_asks_the_key_once_per_run() -> None:
    """A mint's claims (one run) cost one data-key request, however many actions there are."""
    key = _CountingKey(KEY_SECRET, key_id=b"\x01")
    codec = Codec(key)
    actions = [SuccessAction(name=f"a{i}", output=i) for i in range(3)]
    _CountingKey.asked = 0
    codec.seal_many([Claims("QUJD", action, TID, NOW) for action in actions])
    assert _CountingKey.asked == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"transaction_id": TID.upper()}, "transaction_id: must be a UUID"),
        ({"issued_at": NOW.replace(tzinfo=None)}, "issued_at: must be timezone-aware"),
        ({"expires_at": datetime(2107, 1, 1, tzinfo=timezone.utc)}, "expires_at: must lie"),
    ],
)
def test_seal_actions_refuses_parts_claims_would_refuse(
    changes: dict[str, Any], message: str
) -> None:
    """seal_actions() refuses what Claims() refuses, as InvalidRequest naming the part."""
    parts: dict[str, Any] = {"transaction_id": TID, "issued_at": NOW, **changes}
    with pytest.raises(InvalidRequest, match=message):
        Codec(KEY).seal_actions("QUJD", [SuccessAction(name="a", output=1)], **parts)
