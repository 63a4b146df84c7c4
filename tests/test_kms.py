"""Tests of the KMS key backends: envelope, derived and KMS-wrapped local keyrings.

KMS runs in moto. Where moto differs from AWS (``DisableKey`` is not enforced; decrypting under
another key answers ``AccessDeniedException`` instead of ``IncorrectKeyException``), the behaviour
is tested at the client seam with ``botocore.stub.Stubber`` and the docstring says so.
"""

from __future__ import annotations

import base64
import math
import os
import socket
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from helpers import (  # tests/ is on sys.path
    BENCH_TOKEN,
    KMS_KINDS,
    REGION,
    FakeClock,
    KmsCalls,
    KmsKey,
    b64url,
    key_header_of,
    key_header_span,
    key_id_of,
    kms_backend,
    new_kms_key,
    synthetic_token,
    unb64url,
)
from sfn_callback_urls import _config as kms_module
from sfn_callback_urls._claims import Claims, new_transaction_id
from sfn_callback_urls._codec import Codec, Mode
from sfn_callback_urls._config import keyring_from_environment
from sfn_callback_urls._models import SuccessAction
from sfn_callback_urls.errors import ConfigurationError, InvalidPayload, KeyUnavailable
from sfn_callback_urls.keys import (
    Keyring,
    KmsDerivedKey,
    KmsEnvelopeKey,
    LocalKey,
    load_wrapped_keyring,
    wrap_keyring,
)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
PURPOSE = "approvals"
CONTEXT_KEY = "sfn-callback-urls:purpose"
# The benchmark payload: its token and one success action.
BENCH_ACTION = SuccessAction(name="approve", output={"name_in_output": "Ben"})
# What AWS returns for an AES_256 data key's CiphertextBlob (moto returns 96 bytes).
AWS_DATA_KEY_CIPHERTEXT = 185


# --- helpers ---------------------------------------------------------------------------------


def make_claims(token: str = BENCH_TOKEN) -> Claims:
    """Claims for the benchmark action, valid for a week from NOW."""
    return Claims(
        token=token,
        action=BENCH_ACTION,
        transaction_id=new_transaction_id(),
        issued_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def aws_environment(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region (``aws_env``); no key configuration leaks in either."""
    for name in (kms_module.ENV_KEY, kms_module.ENV_WRAPPED_KEY, kms_module.ENV_PARAMETER):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def calls(kms: Any, symmetric_key: str, hmac_key: str) -> KmsCalls:
    """Counts the calls made through the ``kms`` client once the test's keys exist."""
    return KmsCalls(kms)


@pytest.fixture
def new_key_for(kms: Any) -> Callable[..., KmsKey]:
    """Build a KMS backend of a kind ("envelope" or "derived") for a KMS key, on moto's client."""

    def build(kind: str, key_id: str, **kwargs: Any) -> KmsKey:
        kwargs.setdefault("client", kms)
        return kms_backend(kind, key_id, **kwargs)

    return build


@pytest.fixture(params=KMS_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Each KMS backend in turn."""
    return str(request.param)


@pytest.fixture
def key_arn(kind: str, symmetric_key: str, hmac_key: str) -> str:
    """The KMS key that suits the backend under test."""
    return symmetric_key if kind == "envelope" else hmac_key


@pytest.fixture
def new_key(kind: str, key_arn: str, new_key_for: Callable[..., KmsKey]) -> Callable[..., KmsKey]:
    """Build a fresh (cold) backend of the kind under test for the same KMS key."""
    return lambda **kwargs: new_key_for(kind, key_arn, **kwargs)


@pytest.fixture
def data_key_call(kind: str) -> str:
    """The KMS operation that yields one data key for the backend under test."""
    return "GenerateDataKey" if kind == "envelope" else "GenerateMac"


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_round_trip_through_a_cold_handler(new_key: Callable[..., KmsKey], mode: Mode) -> None:
    """A blob minted with a KMS key opens in another process configured with the same key."""
    claims = make_claims()
    blob = Codec(new_key(), mode=mode, purpose=PURPOSE).seal(claims)
    assert Codec(new_key(), mode=mode, purpose=PURPOSE).open(blob, now=NOW) == claims


def test_key_headers_are_what_each_backend_promises(
    kind: str, new_key: Callable[..., KmsKey]
) -> None:
    """Envelope blobs carry KMS's encrypted data key; derived blobs carry a 16-byte salt."""
    key = new_key()
    blob = Codec(key, purpose=PURPOSE).seal(make_claims())
    assert key_id_of(blob) == key.key_id
    assert len(key.key_id) == 4
    header = key_header_of(blob)
    if kind == "envelope":
        assert len(header) == 96  # moto; AWS returns about 185 bytes
    else:
        assert len(header) == 16


def test_a_blob_from_another_purpose_is_invalid(new_key: Callable[..., KmsKey]) -> None:
    """A blob minted for one purpose is refused under another, even by a warm shared key."""
    key = new_key()
    blob = Codec(key, purpose="deployment-a").seal(make_claims())
    Codec(key, purpose="deployment-a").open(blob, now=NOW)  # warms the cache
    with pytest.raises(InvalidPayload):
        Codec(key, purpose="deployment-b").open(blob, now=NOW)
    with pytest.raises(InvalidPayload):
        Codec(new_key(), purpose="deployment-b").open(blob, now=NOW)


def test_a_blob_from_another_purpose_is_refused_by_kms(symmetric_key: str, kms: Any) -> None:
    """Envelope headers are bound to the purpose by KMS itself (encryption context)."""
    header, _ = KmsEnvelopeKey(symmetric_key, client=kms).mint_key("deployment-a")
    with pytest.raises(InvalidPayload):
        KmsEnvelopeKey(symmetric_key, client=kms).open_key(header, "deployment-b")


def test_a_blob_from_another_kms_key_is_invalid(
    kind: str,
    kms: Any,
    calls: KmsCalls,
    new_key: Callable[..., KmsKey],
    new_key_for: Callable[..., KmsKey],
) -> None:
    """A blob minted under one KMS key names a key id the other key's handler does not have."""
    other_arn = new_kms_key(kms, kind)
    blob = Codec(new_key(), purpose=PURPOSE).seal(make_claims())
    calls.reset()
    with pytest.raises(InvalidPayload):
        Codec(new_key_for(kind, other_arn), purpose=PURPOSE).open(blob, now=NOW)
    assert calls.total() == 0  # refused on the key id, before any KMS call


def test_a_derived_blob_under_another_hmac_key_with_the_same_wire_id_is_invalid(
    kms: Any, hmac_key: str
) -> None:
    """Even sharing a wire id, another HMAC key derives another data key: the blob is invalid."""
    other = new_kms_key(kms, "derived")
    blob = Codec(KmsDerivedKey(hmac_key, client=kms, wire_id=b"k1"), purpose=PURPOSE).seal(
        make_claims()
    )
    handler = Codec(KmsDerivedKey(other, client=kms, wire_id=b"k1"), purpose=PURPOSE)
    with pytest.raises(InvalidPayload):
        handler.open(blob, now=NOW)


def test_an_envelope_header_for_another_key_is_invalid_at_the_client_seam(
    kms: Any, symmetric_key: str
) -> None:
    """KMS's IncorrectKeyException is InvalidPayload (client seam: moto answers AccessDenied)."""
    header, _ = KmsEnvelopeKey(symmetric_key, client=kms).mint_key(PURPOSE)
    client = boto3.client("kms", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "decrypt",
            service_error_code="IncorrectKeyException",
            expected_params={
                "CiphertextBlob": header,
                "KeyId": "alias/other",
                "EncryptionContext": {CONTEXT_KEY: PURPOSE},
            },
        )
        with pytest.raises(InvalidPayload):
            KmsEnvelopeKey("alias/other", client=client).open_key(header, PURPOSE)
        stubber.assert_no_pending_responses()


def test_a_tampered_key_header_is_invalid(new_key: Callable[..., KmsKey]) -> None:
    """Changing one byte of the key header makes the blob invalid, on warm and cold handlers."""
    minter = new_key()
    blob = Codec(minter, purpose=PURPOSE).seal(make_claims())
    raw = bytearray(unb64url(blob))
    _, end = key_header_span(blob)
    raw[end - 1] ^= 0x01
    tampered = b64url(bytes(raw))
    with pytest.raises(InvalidPayload):
        Codec(new_key(), purpose=PURPOSE).open(tampered, now=NOW)
    with pytest.raises(InvalidPayload):
        Codec(minter, purpose=PURPOSE).open(tampered, now=NOW)


@pytest.mark.parametrize("length", [0, 1, 15, 17, 96])
def test_a_derived_header_of_the_wrong_size_costs_no_kms_call(
    hmac_key: str, kms: Any, calls: KmsCalls, length: int
) -> None:
    """A derived-key header that is not a 16-byte salt is refused without calling KMS."""
    with pytest.raises(InvalidPayload):
        KmsDerivedKey(hmac_key, client=kms).open_key(b"\x00" * length, PURPOSE)
    assert calls.total() == 0


def test_an_empty_envelope_header_costs_no_kms_call(
    symmetric_key: str, kms: Any, calls: KmsCalls
) -> None:
    """An envelope key refuses an empty header without calling KMS."""
    with pytest.raises(InvalidPayload):
        KmsEnvelopeKey(symmetric_key, client=kms).open_key(b"", PURPOSE)
    assert calls.total() == 0


def test_an_envelope_header_that_is_not_a_data_key_is_invalid(kms: Any, symmetric_key: str) -> None:
    """A ciphertext of something other than a 32-byte data key is refused."""
    header = kms.encrypt(
        KeyId=symmetric_key, Plaintext=b"x" * 16, EncryptionContext={CONTEXT_KEY: PURPOSE}
    )["CiphertextBlob"]
    with pytest.raises(InvalidPayload):
        KmsEnvelopeKey(symmetric_key, client=kms).open_key(header, PURPOSE)


# --- key ids ---------------------------------------------------------------------------------


def test_the_wire_id_is_derived_from_the_key_id_string(symmetric_key: str, kms: Any) -> None:
    """The default wire id is 4 bytes, stable for one key id string, and per backend kind."""
    a = KmsEnvelopeKey(symmetric_key, client=kms)
    b = KmsEnvelopeKey(symmetric_key, client=kms)
    assert a.key_id == b.key_id
    assert len(a.key_id) == 4
    assert a.kms_key_id == symmetric_key
    assert KmsDerivedKey(symmetric_key, client=kms).key_id != a.key_id
    assert KmsEnvelopeKey(symmetric_key, client=kms, wire_id=b"mine").key_id == b"mine"


def test_minter_and_handler_must_name_the_key_the_same_way(kms: Any, symmetric_key: str) -> None:
    """An alias and the ARN it points to are different key ids; an explicit wire_id joins them."""
    kms.create_alias(AliasName="alias/callbacks", TargetKeyId=symmetric_key)
    blob = Codec(KmsEnvelopeKey("alias/callbacks", client=kms), purpose=PURPOSE).seal(make_claims())
    with pytest.raises(InvalidPayload):
        Codec(KmsEnvelopeKey(symmetric_key, client=kms), purpose=PURPOSE).open(blob, now=NOW)
    minter = KmsEnvelopeKey("alias/callbacks", client=kms, wire_id=b"cb")
    handler = KmsEnvelopeKey(symmetric_key, client=kms, wire_id=b"cb")
    claims = make_claims()
    assert (
        Codec(handler, purpose=PURPOSE).open(Codec(minter, purpose=PURPOSE).seal(claims), now=NOW)
        == claims
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wire_id": b""},
        {"wire_id": b"x" * 33},
        {"max_age": timedelta(0)},
        {"max_uses": 0},
        {"cache_size": 0},
    ],
)
def test_bad_settings_are_configuration_errors(kind: str, kwargs: dict[str, Any]) -> None:
    """Impossible key ids and cache limits are refused at construction."""
    with pytest.raises(ConfigurationError):
        kms_backend(kind, "alias/callbacks", **kwargs)


def test_an_empty_kms_key_id_is_a_configuration_error(kind: str) -> None:
    """A KMS key id is required."""
    with pytest.raises(ConfigurationError):
        kms_backend(kind, "")


# --- keyrings --------------------------------------------------------------------------------


def test_a_keyring_mixing_local_and_kms_keys_picks_the_backend_by_key_id(
    kms: Any,
    calls: KmsCalls,
    symmetric_key: str,
    hmac_key: str,
    new_key_for: Callable[..., KmsKey],
) -> None:
    """Each key id in a mixed keyring opens with its own backend; local blobs cost no KMS call."""
    local = LocalKey.generate()
    envelope = new_key_for("envelope", symmetric_key)
    derived = new_key_for("derived", hmac_key)
    claims = {key.key_id: make_claims() for key in (local, envelope, derived)}
    blobs = {
        key.key_id: Codec(key, purpose=PURPOSE).seal(claims[key.key_id])
        for key in (local, envelope, derived)
    }
    handler = Codec(
        Keyring(
            [
                LocalKey.from_string(local.to_string()),
                new_key_for("envelope", symmetric_key),
                new_key_for("derived", hmac_key),
            ]
        ),
        purpose=PURPOSE,
    )
    calls.reset()
    assert handler.open(blobs[local.key_id], now=NOW) == claims[local.key_id]
    assert calls.total() == 0
    assert handler.open(blobs[envelope.key_id], now=NOW) == claims[envelope.key_id]
    assert calls.counts() == Counter({"Decrypt": 1})
    assert handler.open(blobs[derived.key_id], now=NOW) == claims[derived.key_id]
    assert calls.counts() == Counter({"Decrypt": 1, "GenerateMac": 1})


def test_rotation_new_primary_mints_old_keys_still_open(
    kms: Any, symmetric_key: str, hmac_key: str, new_key_for: Callable[..., KmsKey]
) -> None:
    """Rotating: the new primary mints, and blobs minted under the old keys still open."""
    old_local = LocalKey.generate()
    old_kms = new_key_for("envelope", symmetric_key)
    new_kms = new_key_for("derived", hmac_key)
    old_blobs = []
    for key in (old_local, old_kms):
        claims = make_claims()
        old_blobs.append((Codec(key, purpose=PURPOSE).seal(claims), claims))
    keyring = Keyring([new_kms, old_kms, old_local])
    codec = Codec(keyring, purpose=PURPOSE)
    claims = make_claims()
    new_blob = codec.seal(claims)
    assert key_id_of(new_blob) == new_kms.key_id
    assert codec.open(new_blob, now=NOW) == claims
    for blob, expected in old_blobs:
        assert codec.open(blob, now=NOW) == expected
    # After retiring the old KMS key, its blobs no longer open.
    retired = Codec([new_kms, old_local], purpose=PURPOSE)
    with pytest.raises(InvalidPayload):
        retired.open(old_blobs[1][0], now=NOW)


# --- KMS call counts and caches --------------------------------------------------------------


def test_a_thousand_tokens_cost_one_kms_call_per_side(
    kind: str, calls: KmsCalls, new_key: Callable[..., KmsKey]
) -> None:
    """Minting and opening 1,000 tokens calls KMS once to mint and once to open."""
    minter = Codec(new_key(), purpose=PURPOSE)
    handler = Codec(new_key(), purpose=PURPOSE)
    for _ in range(1000):
        claims = make_claims()
        assert handler.open(minter.seal(claims), now=NOW) == claims
    assert calls.total() <= 3
    if kind == "envelope":
        assert calls.counts() == Counter({"GenerateDataKey": 1, "Decrypt": 1})
    else:
        assert calls.counts() == Counter({"GenerateMac": 2})


def test_minting_cache_expiry_makes_exactly_one_new_data_key(
    calls: KmsCalls, new_key: Callable[..., KmsKey], data_key_call: str
) -> None:
    """Past max_age, the next mint asks KMS for exactly one new data key; before it, none."""
    clock = FakeClock()
    minter = new_key(max_age=timedelta(minutes=5), clock=clock)
    first, _ = minter.mint_key(PURPOSE)
    clock.advance(299)
    assert minter.mint_key(PURPOSE)[0] == first
    assert calls.counts()[data_key_call] == 1
    clock.advance(2)
    second, _ = minter.mint_key(PURPOSE)
    assert second != first
    for _ in range(100):
        assert minter.mint_key(PURPOSE)[0] == second
    assert calls.counts()[data_key_call] == 2


def test_opened_data_keys_expire_after_max_age(
    kind: str, calls: KmsCalls, new_key: Callable[..., KmsKey]
) -> None:
    """A handler asks KMS again for a header it has held longer than max_age."""
    clock = FakeClock()
    blob = Codec(new_key(), purpose=PURPOSE).seal(make_claims())
    handler = Codec(new_key(max_age=timedelta(minutes=5), clock=clock), purpose=PURPOSE)
    calls.reset()
    handler.open(blob, now=NOW)
    clock.advance(299)
    handler.open(blob, now=NOW)
    assert calls.total() == 1
    clock.advance(2)
    handler.open(blob, now=NOW)
    assert calls.total() == 2


def test_minting_caches_per_purpose(calls: KmsCalls, new_key: Callable[..., KmsKey]) -> None:
    """Each purpose gets its own data key."""
    minter = new_key()
    a, _ = minter.mint_key("a")
    b, _ = minter.mint_key("b")
    assert a != b
    assert minter.mint_key("a")[0] == a
    assert calls.total() == 2


def test_max_uses_is_honoured(
    calls: KmsCalls, new_key: Callable[..., KmsKey], data_key_call: str
) -> None:
    """A data key mints at most max_uses blobs before a new one is generated."""
    minter = new_key(max_uses=3)
    headers = [minter.mint_key(PURPOSE)[0] for _ in range(7)]
    assert calls.counts()[data_key_call] == 3
    assert len(set(headers)) == 3
    assert [headers.count(header) for header in dict.fromkeys(headers)] == [3, 3, 1]


def test_the_open_cache_is_bounded(calls: KmsCalls, new_key: Callable[..., KmsKey]) -> None:
    """The handling side keeps at most cache_size data keys, least recently used out first."""
    minter = new_key(max_uses=1)
    blobs = [Codec(minter, purpose=PURPOSE).seal(make_claims()) for _ in range(3)]
    handler = Codec(new_key(cache_size=2), purpose=PURPOSE)
    calls.reset()
    handler.open(blobs[0], now=NOW)
    handler.open(blobs[1], now=NOW)
    handler.open(blobs[0], now=NOW)  # 0 is now the most recently used
    handler.open(blobs[2], now=NOW)  # evicts 1
    assert calls.total() == 3
    handler.open(blobs[0], now=NOW)
    assert calls.total() == 3
    handler.open(blobs[1], now=NOW)
    assert calls.total() == 4


def test_concurrent_round_trips_are_exact(
    kind: str, calls: KmsCalls, new_key: Callable[..., KmsKey], data_key_call: str
) -> None:
    """2,000 threaded mint/open round trips through shared cached keys are all exact."""
    minter = Codec(new_key(max_uses=50), purpose=PURPOSE)
    handler = Codec(new_key(), purpose=PURPOSE)

    def round_trip(index: int) -> bool:
        claims = make_claims(synthetic_token(index))
        return handler.open(minter.seal(claims), now=NOW) == claims

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(round_trip, range(2000)))
    assert all(results)
    assert len(results) == 2000
    # 40 data keys minted; concurrent misses on one header wait for a single KMS call.
    if kind == "envelope":
        assert calls.counts() == Counter({"GenerateDataKey": 40, "Decrypt": 40})
    else:
        assert calls.counts() == Counter({"GenerateMac": 80})


# --- KMS failures ----------------------------------------------------------------------------

_FAILURES = [
    ("DisabledException", "disabled after minting (client seam: moto ignores DisableKey)"),
    ("AccessDeniedException", "access denied stays a server error, never InvalidPayload"),
    ("ThrottlingException", "throttling, as raised once standard retries are spent"),
    ("KMSInvalidStateException", "key pending deletion (client seam: moto ignores it)"),
    ("NotFoundException", "the key no longer exists"),
]


@pytest.mark.parametrize(("code", "why"), _FAILURES, ids=[code for code, _ in _FAILURES])
def test_kms_failures_on_a_cold_handler_are_key_unavailable(
    kind: str, key_arn: str, new_key: Callable[..., KmsKey], code: str, why: str
) -> None:
    """A KMS failure when opening is KeyUnavailable (503) naming the code (client seam: Stubber)."""
    blob = Codec(new_key(), purpose=PURPOSE).seal(make_claims())
    header = key_header_of(blob)
    client = boto3.client("kms", region_name=REGION)
    if kind == "envelope":
        operation = "decrypt"
        expected: dict[str, Any] = {
            "CiphertextBlob": header,
            "KeyId": key_arn,
            "EncryptionContext": {CONTEXT_KEY: PURPOSE},
        }
    else:
        operation = "generate_mac"
        expected = {"KeyId": key_arn, "MacAlgorithm": "HMAC_SHA_256", "Message": ANY}
    with Stubber(client) as stubber:
        stubber.add_client_error(
            operation,
            service_error_code=code,
            service_message=f"{key_arn} is unavailable ({why})",
            http_status_code=400,
            expected_params=expected,
        )
        with pytest.raises(KeyUnavailable) as caught:
            Codec(new_key(client=client), purpose=PURPOSE).open(blob, now=NOW)
        stubber.assert_no_pending_responses()
    error = caught.value
    assert error.status == 503
    assert error.aws_code == code
    assert code in error.message
    assert error.original_error is not None
    for secret in (header.hex(), b64url(header), base64.b64encode(header).decode(), key_arn):
        assert secret not in error.message
        assert secret not in str(error)


@pytest.mark.parametrize(("code", "why"), _FAILURES, ids=[code for code, _ in _FAILURES])
def test_kms_failures_when_minting_are_key_unavailable(
    kind: str, key_arn: str, new_key: Callable[..., KmsKey], code: str, why: str
) -> None:
    """A KMS failure when minting is KeyUnavailable naming the code (client seam: Stubber)."""
    client = boto3.client("kms", region_name=REGION)
    operation = "generate_data_key" if kind == "envelope" else "generate_mac"
    with Stubber(client) as stubber:
        stubber.add_client_error(operation, service_error_code=code, service_message=why)
        with pytest.raises(KeyUnavailable, match=code):
            Codec(new_key(client=client), purpose=PURPOSE).seal(make_claims())


def test_an_unreachable_kms_endpoint_is_key_unavailable(kind: str) -> None:
    """A connection failure is KeyUnavailable naming botocore's error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = boto3.client(
        "kms",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    key = kms_backend(kind, "alias/x", client=client)
    with pytest.raises(KeyUnavailable) as caught:
        key.mint_key(PURPOSE)
    assert caught.value.aws_code == "EndpointConnectionError"
    with pytest.raises(KeyUnavailable):
        key.open_key(b"\x00" * 16, PURPOSE)


def test_a_failed_open_is_not_cached(
    kind: str, new_key: Callable[..., KmsKey], key_arn: str
) -> None:
    """After a KMS outage, the same header opens once KMS answers again."""
    blob = Codec(new_key(), purpose=PURPOSE).seal(make_claims())
    client = boto3.client("kms", region_name=REGION)
    handler = Codec(new_key(client=client), purpose=PURPOSE)
    operation = "decrypt" if kind == "envelope" else "generate_mac"
    with Stubber(client) as stubber:
        stubber.add_client_error(operation, service_error_code="ThrottlingException")
        with pytest.raises(KeyUnavailable):
            handler.open(blob, now=NOW)
    # The stubber is gone: the same client now reaches moto again.
    assert handler.open(blob, now=NOW).token == BENCH_TOKEN


def test_without_a_client_one_is_built_lazily_from_the_session(kind: str, key_arn: str) -> None:
    """No client is created at construction; the first use builds one from the session."""
    session = boto3.Session(region_name=REGION)
    built: list[str] = []
    session_client = session.client

    def recording_client(service: str, **kwargs: Any) -> Any:
        built.append(service)
        return session_client(service, **kwargs)

    session.client = recording_client  # type: ignore[method-assign]
    minter = kms_backend(kind, key_arn, session=session)
    assert built == []  # laziness is the behaviour under test
    handler = kms_backend(kind, key_arn)  # the default session: region from AWS_DEFAULT_REGION
    claims = make_claims()
    assert (
        Codec(handler, purpose=PURPOSE).open(Codec(minter, purpose=PURPOSE).seal(claims), now=NOW)
        == claims
    )
    assert minter.client is minter.client
    assert built == ["kms"]  # built once, on first use


# --- KMS-wrapped local keyrings --------------------------------------------------------------


def test_a_wrapped_keyring_loads_with_one_kms_call(
    kms: Any, calls: KmsCalls, symmetric_key: str
) -> None:
    """A wrapped keyring decrypts with one KMS call and then opens blobs of the original keys."""
    primary, old = LocalKey.generate(), LocalKey.generate()
    text = f"{primary.to_string()},{old.to_string()}"
    wrapped = wrap_keyring(text, symmetric_key, client=kms)
    assert wrapped.startswith("sfncukms1_")
    assert primary.to_string() not in wrapped
    old_claims, new_claims = make_claims(), make_claims()
    old_blob = Codec(old, purpose=PURPOSE).seal(old_claims)
    new_blob = Codec(Keyring.from_string(text), purpose=PURPOSE).seal(new_claims)
    calls.reset()
    keyring = load_wrapped_keyring(wrapped, client=kms)
    assert calls.counts() == Counter({"Decrypt": 1})
    assert [key.key_id for key in keyring] == [primary.key_id, old.key_id]
    codec = Codec(keyring, purpose=PURPOSE)
    for _ in range(500):
        assert codec.open(old_blob, now=NOW) == old_claims
        assert codec.open(new_blob, now=NOW) == new_claims
        codec.seal(make_claims())
    assert calls.total() == 1


def test_wrap_keyring_takes_local_keys(kms: Any, symmetric_key: str) -> None:
    """A LocalKey or a list of them wraps like their string form, primary first."""
    a, b = LocalKey.generate(), LocalKey.generate()
    one = load_wrapped_keyring(wrap_keyring(a, symmetric_key, client=kms), client=kms)
    assert [key.key_id for key in one] == [a.key_id]
    two = load_wrapped_keyring(wrap_keyring([b, a], symmetric_key, client=kms), client=kms)
    assert [key.key_id for key in two] == [b.key_id, a.key_id]


def test_wrap_keyring_refuses_what_would_not_load(
    kms: Any, calls: KmsCalls, symmetric_key: str
) -> None:
    """Wrapping a string that is not a keyring, or a KMS key, fails before any KMS call."""
    with pytest.raises(ConfigurationError):
        wrap_keyring("not-a-key", symmetric_key, client=kms)
    with pytest.raises(ConfigurationError):
        wrap_keyring([KmsEnvelopeKey(symmetric_key, client=kms)], symmetric_key, client=kms)
    with pytest.raises(ConfigurationError):
        wrap_keyring([], symmetric_key, client=kms)
    assert calls.total() == 0


def test_a_damaged_wrapped_keyring_is_a_configuration_error(
    kms: Any, calls: KmsCalls, symmetric_key: str
) -> None:
    """A wrong prefix, bad encoding or altered ciphertext is a ConfigurationError."""
    wrapped = wrap_keyring(LocalKey.generate().to_string(), symmetric_key, client=kms)
    for text in ("sfncu1_abc", "sfncukms1_", "sfncukms1_a"):
        with pytest.raises(ConfigurationError):
            load_wrapped_keyring(text, client=kms)
    raw = bytearray(unb64url(wrapped[len("sfncukms1_") :]))
    raw[-1] ^= 0x01
    with pytest.raises(ConfigurationError) as caught:
        load_wrapped_keyring("sfncukms1_" + b64url(bytes(raw)), client=kms)
    assert "sfncukms1_" + b64url(bytes(raw)) not in caught.value.message


def test_a_keyring_wrapped_for_another_purpose_does_not_load(kms: Any, symmetric_key: str) -> None:
    """Ciphertext made under another encryption context is refused."""
    other = kms.encrypt(
        KeyId=symmetric_key,
        Plaintext=LocalKey.generate().to_string().encode(),
        EncryptionContext={CONTEXT_KEY: "something-else"},
    )["CiphertextBlob"]
    with pytest.raises(ConfigurationError):
        load_wrapped_keyring("sfncukms1_" + b64url(other), client=kms)


def test_loading_a_wrapped_keyring_when_kms_fails_is_key_unavailable(kms: Any) -> None:
    """KMS failing to decrypt a wrapped keyring is KeyUnavailable (client seam: Stubber)."""
    client = boto3.client("kms", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error("decrypt", service_error_code="DisabledException")
        with pytest.raises(KeyUnavailable, match="DisabledException"):
            load_wrapped_keyring("sfncukms1_" + b64url(b"x" * 100), client=client)
        stubber.add_client_error("encrypt", service_error_code="AccessDeniedException")
        with pytest.raises(KeyUnavailable, match="AccessDeniedException"):
            wrap_keyring(LocalKey.generate(), "alias/x", client=client)


def test_keyring_from_a_plain_environment_variable() -> None:
    """SFN_CALLBACK_URLS_KEY holds a plain keyring string; no AWS call is made."""
    a, b = LocalKey.generate(), LocalKey.generate()
    keyring = keyring_from_environment(
        {"SFN_CALLBACK_URLS_KEY": f"{a.to_string()}, {b.to_string()}"},
        client=object(),  # type: ignore[arg-type]
        ssm_client=object(),
    )
    assert [key.key_id for key in keyring] == [a.key_id, b.key_id]


def test_keyring_from_a_wrapped_environment_variable_costs_one_kms_call(
    kms: Any, calls: KmsCalls, symmetric_key: str
) -> None:
    """SFN_CALLBACK_URLS_WRAPPED_KEY is decrypted once per process, then served from memory."""
    key = LocalKey.generate()
    environ = {"SFN_CALLBACK_URLS_WRAPPED_KEY": wrap_keyring(key, symmetric_key, client=kms)}
    calls.reset()
    first = keyring_from_environment(environ, client=kms)
    second = keyring_from_environment(environ, client=kms)
    assert first is second
    assert [k.key_id for k in first] == [key.key_id]
    assert calls.counts() == Counter({"Decrypt": 1})


def test_keyring_from_the_environment_builds_default_clients(symmetric_key: str, kms: Any) -> None:
    """Without clients, the wrapped keyring and the SSM parameter use the default session."""
    key = LocalKey.generate()
    wrapped = wrap_keyring(key, symmetric_key)
    assert [k.key_id for k in keyring_from_environment({kms_module.ENV_WRAPPED_KEY: wrapped})] == [
        key.key_id
    ]
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/callbacks/key", Value=key.to_string(), Type="SecureString"
    )
    keyring = keyring_from_environment({kms_module.ENV_PARAMETER: "/callbacks/key"})
    assert [k.key_id for k in keyring] == [key.key_id]


@pytest.mark.parametrize("wrapped", [False, True])
def test_keyring_from_an_ssm_parameter(
    kms: Any, calls: KmsCalls, symmetric_key: str, wrapped: bool
) -> None:
    """SFN_CALLBACK_URLS_PARAMETER names an SSM parameter holding a plain or wrapped keyring."""
    key = LocalKey.generate()
    value = wrap_keyring(key, symmetric_key, client=kms) if wrapped else key.to_string()
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/callbacks/keyring", Value=value, Type="SecureString")
    calls.reset()
    keyring = keyring_from_environment(
        {"SFN_CALLBACK_URLS_PARAMETER": "/callbacks/keyring"}, client=kms, ssm_client=ssm
    )
    assert [k.key_id for k in keyring] == [key.key_id]
    assert calls.total() == (1 if wrapped else 0)


def test_a_missing_ssm_parameter_is_a_configuration_error(kms: Any) -> None:
    """A parameter that does not exist is a ConfigurationError."""
    ssm = boto3.client("ssm", region_name=REGION)
    with pytest.raises(ConfigurationError, match="does not exist"):
        keyring_from_environment({"SFN_CALLBACK_URLS_PARAMETER": "/nope"}, ssm_client=ssm)


def test_an_unreadable_ssm_parameter_is_key_unavailable() -> None:
    """SSM refusing the read is KeyUnavailable naming the code (client seam: Stubber)."""
    ssm = boto3.client("ssm", region_name=REGION)
    with Stubber(ssm) as stubber:
        stubber.add_client_error("get_parameter", service_error_code="AccessDeniedException")
        with pytest.raises(KeyUnavailable, match="AccessDeniedException"):
            keyring_from_environment({"SFN_CALLBACK_URLS_PARAMETER": "/x"}, ssm_client=ssm)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SFN_CALLBACK_URLS_KEY": ""},
        {"SFN_CALLBACK_URLS_KEY": "sfncu1_x", "SFN_CALLBACK_URLS_PARAMETER": "/p"},
        {"SFN_CALLBACK_URLS_KEY": "not-a-key"},
        {"SFN_CALLBACK_URLS_WRAPPED_KEY": "sfncu1_plain-key-in-the-wrong-variable"},
    ],
)
def test_keyring_from_a_bad_environment_is_a_configuration_error(environ: dict[str, str]) -> None:
    """No variable, several variables, or a malformed value is a ConfigurationError."""
    with pytest.raises(ConfigurationError) as caught:
        keyring_from_environment(environ)
    if not any(environ.values()):
        for name in ("SFN_CALLBACK_URLS_KEY", "SFN_CALLBACK_URLS_WRAPPED_KEY"):
            assert name in caught.value.message
        assert "SFN_CALLBACK_URLS_PARAMETER" in caught.value.message


def test_keyring_from_environment_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default the process environment is read."""
    key = LocalKey.generate()
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", key.to_string())
    assert [k.key_id for k in keyring_from_environment()] == [key.key_id]


# --- blob lengths ----------------------------------------------------------------------------


def test_blob_lengths_with_the_benchmark_payload(
    kms: Any, symmetric_key: str, hmac_key: str
) -> None:
    """Derived blobs are at most 40 characters longer than local ones; envelope ones <= 1,200."""
    assert len(BENCH_TOKEN) == 684
    assert BENCH_TOKEN.startswith("AAAAKgAAAAIAAAAAAAAAA")
    claims = make_claims()
    local_blob = Codec(LocalKey.generate(), purpose=PURPOSE).seal(claims)
    derived_blob = Codec(KmsDerivedKey(hmac_key, client=kms), purpose=PURPOSE).seal(claims)
    envelope_blob = Codec(KmsEnvelopeKey(symmetric_key, client=kms), purpose=PURPOSE).seal(claims)
    assert len(derived_blob) - len(local_blob) <= 40
    assert len(envelope_blob) <= 1200
    # moto's encrypted data key is 96 bytes; AWS's is about 185. The envelope blob on AWS is the
    # local blob's bytes plus the encrypted data key (same 4-byte key id, and the key header's
    # length byte is there, as 0, in local blobs too), so bound it from the local blob's raw size,
    # and also with the cruder "local length + encoded header, rounded up" bound.
    local_raw = len(unb64url(local_blob))
    moto_header = len(key_header_of(envelope_blob))
    assert len(unb64url(envelope_blob)) == local_raw + moto_header
    aws_envelope_length = math.ceil((local_raw + AWS_DATA_KEY_CIPHERTEXT) * 4 / 3)
    assert aws_envelope_length <= 1200
    assert len(local_blob) + math.ceil((AWS_DATA_KEY_CIPHERTEXT + 1) * 4 / 3) <= 1200


def test_clients_built_without_a_session_share_the_process_botocore_session(
    aws_env: None,
) -> None:
    """The KMS and Step Functions clients come from one botocore session; config merges.

    A given config's settings (timeouts, retries) win over ours, which stay where it is silent.
    """
    from sfn_callback_urls._complete import default_client, reset_default_client
    from sfn_callback_urls.keys._aws import default_session, make_client, reset_default_session

    reset_default_client()
    try:
        sessions = []
        original = type(default_session()).create_client

        def recording(session: Any, *args: Any, **kwargs: Any) -> Any:
            sessions.append(session)
            return original(session, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(default_session()), "create_client", recording)
            KmsEnvelopeKey("alias/x").client  # noqa: B018 - building it is the behaviour
            default_client()
            timed = make_client("kms", config=Config(connect_timeout=2, read_timeout=3))
        assert len(sessions) == 3
        assert len({id(session) for session in sessions}) == 1
        # Its loader knows our services: no walk of botocore's ~400 service folders.
        listed = []
        listdir = os.listdir

        def counting(path: Any) -> list[str]:
            listed.append(path)
            return listdir(path)

        reset_default_session()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "listdir", counting)
            make_client("stepfunctions")
        assert len(listed) < 20, len(listed)
        assert (timed.meta.config.connect_timeout, timed.meta.config.read_timeout) == (2, 3)
        assert timed.meta.config.retries["mode"] == "standard"
        assert type(timed).__module__ == "botocore.client"
    finally:
        reset_default_client()
