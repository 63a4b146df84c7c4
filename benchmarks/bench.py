"""Mint/verify time and blob length of sfn-callback-urls against a raw floor and other formats.

Run with ``nox -s bench`` or ``python benchmarks/bench.py`` (``--quick`` for a smoke test,
``--json`` for machine-readable output). Every implementation seals the same payload: a task
token of the real shape and the blog post's approve action, expiring in 7 days.

Each row is a :class:`Case`: a name, a ``mint()`` callable returning a blob, a ``verify(blob)``
callable returning the task token it recovered, and optionally how to build its approve URL and
which targets apply. To add rows, write a factory that returns cases and append it to
:data:`CASE_FACTORIES`. A factory may raise :class:`ImportError` to skip its rows
when an optional library is missing.

The KMS rows run against moto in-process (``moto[kms]``, in the ``bench`` extra), with warm
caches; their "KMS calls" column is counted with a botocore event hook over 1,000 fresh tokens.

The exit status is 1 when a target is missed, so ``nox -s bench`` doubles as a check.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import functools
import json
import math
import os
import platform
import random
import sys
import time
import timeit
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sfn_callback_urls import (
    Claims,
    Codec,
    KmsDerivedKey,
    KmsEnvelopeKey,
    LocalKey,
    Minter,
    Mode,
    SuccessAction,
)
from sfn_callback_urls._urls import callback_url

#: API Gateway-shaped base URL for the approve URL's length.
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
#: Lifetime of the URLs, as in the blog post.
EXPIRES_IN = timedelta(days=7)
#: Speed target: our mint and verify within this factor of the raw floor.
MAX_RATIO = 2.0
#: Speed target for the KMS backends (warm caches).
MAX_KMS_RATIO = 2.5
#: Derived-mode blob: at most this many characters longer than the local-key encrypted blob.
MAX_DERIVED_EXTRA = 40
#: Envelope-mode blob length target (characters), checked on the AWS estimate.
MAX_ENVELOPE_BLOB = 1200
#: Encrypted data key (``CiphertextBlob``) sizes: moto's, and about what AWS returns.
MOTO_DATA_KEY_BYTES = 96
AWS_DATA_KEY_BYTES = 185
#: Tokens minted and opened with cold backends to count KMS calls.
KMS_COUNT_TOKENS = 1000
#: Length targets (characters).
MAX_ENCRYPTED_BLOB = 900
MAX_URL = 1024  # classic Outlook cuts links here

FLOOR = "raw floor: AES-256-GCM + json + base64url"
OURS_ENCRYPTED = "sfn-callback-urls (encrypted)"


# --- the payload ---------------------------------------------------------------------------


def make_task_token() -> str:
    """A task token of the real shape: standard base64 of 512 bytes (684 characters).

    Real tokens start with ``AAAAKgAAAAIAAAAAAAAAA``; the rest is deterministic random bytes
    (incompressible, like the real thing).
    """
    rng = random.Random(0)  # noqa: S311 - deterministic test data, not a secret
    raw = bytes.fromhex("0000002a000000020000000000000001") + rng.randbytes(496)
    token = base64.b64encode(raw).decode("ascii")
    assert len(token) == 684
    assert token.startswith("AAAAKgAAAAIAAAAAAAAAA")
    return token


@dataclass(frozen=True)
class Payload:
    """What every implementation seals. All inputs are fixed, so only sealing is timed."""

    token: str
    action: dict[str, Any]
    action_model: SuccessAction
    transaction_id: str
    issued_at: datetime
    expires_at: datetime
    #: The time verification is checked at.
    now: datetime

    @property
    def iat(self) -> int:
        return int(self.issued_at.timestamp())

    @property
    def exp(self) -> int:
        return int(self.expires_at.timestamp())

    @classmethod
    def default(cls) -> Payload:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        rng = random.Random(1)  # noqa: S311 - deterministic test data, not a secret
        output: dict[str, Any] = {"name_in_output": "Ben"}
        return cls(
            token=make_task_token(),
            action={"name": "approve", "type": "success", "output": output},
            action_model=SuccessAction(name="approve", output=output),
            transaction_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            issued_at=now,
            expires_at=now + EXPIRES_IN,
            now=now,
        )

    def simple_dict(self) -> dict[str, Any]:
        """The payload the raw floor, itsdangerous and Fernet serialize."""
        return {
            "token": self.token,
            "action": self.action,
            "tid": self.transaction_id,
            "exp": self.exp,
        }


# --- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    """One row of the table.

    Attributes:
        name: the row's label.
        description: what it is, for the docs and ``--json``.
        mint: seals the payload; returns the blob (the URL's ``data`` parameter).
        verify: opens a blob; returns the task token it carried.
        url: builds the whole approve URL (default: the library's URL shape around the blob).
        speed_target: check mint and verify against ``MAX_RATIO`` times the raw floor.
        max_blob: blob length target, if any.
        max_url: approve URL length target, if any.
        max_ratio: the speed target's factor (with ``speed_target``).
        max_blob_over: (row name, n): blob at most n characters longer than that row's blob.
        aws_blob_extra: characters to add to the measured blob for the AWS estimate (moto's
            encrypted data key is shorter than AWS's); ``max_blob`` is then checked on both.
        kms_calls: KMS calls to mint and to open ``KMS_COUNT_TOKENS`` tokens, (mint, open);
            ``None`` when the row has no KMS.
        kms_calls_computed: ``kms_calls`` is computed, not counted.
    """

    name: str
    description: str
    mint: Callable[[], str]
    verify: Callable[[str], str]
    url: Callable[[str], str] | None = None
    speed_target: bool = False
    max_blob: int | None = None
    max_url: int | None = None
    max_ratio: float = MAX_RATIO
    max_blob_over: tuple[str, int] | None = None
    aws_blob_extra: int | None = None
    kms_calls: tuple[int, int] | None = None
    kms_calls_computed: bool = False


def our_cases(p: Payload) -> list[Case]:
    cases = []
    for mode, label in ((Mode.ENCRYPTED, "encrypted"), (Mode.SIGNED, "signed")):
        codec = Codec(LocalKey.generate(), mode=mode)
        minter = Minter(codec, BASE_URL)

        def mint(codec: Codec = codec) -> str:
            return codec.seal(
                Claims(
                    token=p.token,
                    action=p.action_model,
                    transaction_id=p.transaction_id,
                    issued_at=p.issued_at,
                    expires_at=p.expires_at,
                )
            )

        def verify(blob: str, codec: Codec = codec) -> str:
            return codec.open(blob, now=p.now).token

        def url(_blob: str, minter: Minter = minter) -> str:
            response = minter.mint(p.token, [p.action_model], expires_at=p.expires_at, now=p.now)
            return response.urls["approve"]

        cases.append(
            Case(
                name=f"sfn-callback-urls ({label})",
                description=(
                    f"Codec(LocalKey.generate(), mode=Mode.{mode.name}); mint = "
                    "codec.seal(Claims(...)) including building the Claims; "
                    "verify = codec.open(blob, now=...). URL from Minter.mint()."
                ),
                mint=mint,
                verify=verify,
                url=url,
                speed_target=True,
                max_blob=MAX_ENCRYPTED_BLOB if mode is Mode.ENCRYPTED else None,
                max_url=MAX_URL,
                kms_calls=(0, 0),
            )
        )
    return cases


def raw_floor_case(p: Payload) -> list[Case]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))  # built once, as the codec caches its own

    def mint() -> str:
        data = json.dumps(p.simple_dict()).encode()
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + aead.encrypt(nonce, data, None)).decode("ascii")

    def verify(blob: str) -> str:
        raw = base64.urlsafe_b64decode(blob)
        token: str = json.loads(aead.decrypt(raw[:12], raw[12:], None))["token"]
        return token

    return [
        Case(
            name=FLOOR,
            description=(
                "The least an encrypted format can do: json.dumps of {token, action, tid, exp}, "
                "a random 12-byte nonce, AESGCM.encrypt (cipher object built once), "
                "urlsafe_b64encode; verify = decode + decrypt + json.loads. No header, no key "
                "id, no expiry check, no validation."
            ),
            mint=mint,
            verify=verify,
        )
    ]


def itsdangerous_case(p: Payload) -> list[Case]:
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(os.urandom(32))
    max_age = int(EXPIRES_IN.total_seconds()) + 60

    def mint() -> str:
        return serializer.dumps(p.simple_dict())

    def verify(blob: str) -> str:
        token: str = serializer.loads(blob, max_age=max_age)["token"]
        return token

    return [
        Case(
            name="itsdangerous URLSafeTimedSerializer",
            description=(
                "Signed, not encrypted (HMAC-SHA1 over compact JSON, zlib-compressed when shorter, "
                "plus a timestamp): dumps(payload) / loads(blob, max_age=...)."
            ),
            mint=mint,
            verify=verify,
        )
    ]


def fernet_case(p: Payload) -> list[Case]:
    from cryptography.fernet import Fernet

    fernet = Fernet(Fernet.generate_key())
    ttl = int(EXPIRES_IN.total_seconds()) + 60

    def mint() -> str:
        return fernet.encrypt(json.dumps(p.simple_dict()).encode()).decode("ascii")

    def verify(blob: str) -> str:
        token: str = json.loads(fernet.decrypt(blob, ttl=ttl))["token"]
        return token

    return [
        Case(
            name="cryptography Fernet",
            description=(
                "AES-128-CBC + HMAC-SHA256 with a timestamp, base64url with padding: "
                "encrypt(json bytes) / decrypt(blob, ttl=...)."
            ),
            mint=mint,
            verify=verify,
        )
    ]


def _start_moto() -> None:
    """Start moto's in-process AWS mock for the rest of the run (stopped at exit)."""
    from moto import mock_aws

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    mock = mock_aws()
    mock.start()
    atexit.register(mock.stop)


def _kms_client(calls: list[str] | None = None) -> Any:
    """A KMS client; with ``calls``, every KMS API call it makes is appended to that list."""
    import boto3

    client = boto3.client("kms", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    if calls is not None:

        def counter(event_name: str, **_kwargs: Any) -> None:
            calls.append(event_name.rsplit(".", 1)[-1])

        client.meta.events.register("before-call.kms.*", counter)
    return client


def kms_cases(p: Payload) -> list[Case]:
    """KmsEnvelopeKey and KmsDerivedKey under moto, encrypted mode, warm caches.

    Minting and opening use separate backend instances, each with its own client, like a
    create-URLs Lambda and a handler Lambda; both are warmed by one mint/open before timing.
    """
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"moto is not installed ({exc}); pip install 'moto[kms]'") from exc
    _start_moto()
    setup = _kms_client()
    symmetric = str(setup.create_key()["KeyMetadata"]["Arn"])
    hmac = str(
        setup.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    )

    def claims() -> Claims:
        return Claims(
            token=p.token,
            action=p.action_model,
            transaction_id=p.transaction_id,
            issued_at=p.issued_at,
            expires_at=p.expires_at,
        )

    def count_calls(
        backend: type[KmsEnvelopeKey] | type[KmsDerivedKey], key_id: str
    ) -> tuple[int, int]:
        """KMS calls to mint, then open, KMS_COUNT_TOKENS fresh tokens with cold backends."""
        mint_calls: list[str] = []
        open_calls: list[str] = []
        minter = Codec(backend(key_id, client=_kms_client(mint_calls)))
        opener = Codec(backend(key_id, client=_kms_client(open_calls)))
        blobs = [minter.seal(claims()) for _ in range(KMS_COUNT_TOKENS)]
        assert len(set(blobs)) == KMS_COUNT_TOKENS
        for blob in blobs:
            assert opener.open(blob, now=p.now).token == p.token
        return len(mint_calls), len(open_calls)

    cases = []
    for backend, key_id, label in (
        (KmsEnvelopeKey, symmetric, "envelope"),
        (KmsDerivedKey, hmac, "derived"),
    ):
        mint_codec = Codec(backend(key_id, client=_kms_client()))
        open_codec = Codec(backend(key_id, client=_kms_client()))
        open_codec.open(mint_codec.seal(claims()), now=p.now)  # warm both caches

        def mint(codec: Codec = mint_codec) -> str:
            return codec.seal(claims())

        def verify(blob: str, codec: Codec = open_codec) -> str:
            return codec.open(blob, now=p.now).token

        envelope = backend is KmsEnvelopeKey
        cases.append(
            Case(
                name=f"KMS {label} (moto, warm cache)",
                description=(
                    f"Codec({backend.__name__}(arn, client=...)) against moto in-process, "
                    "encrypted mode; mint = codec.seal(Claims(...)) as in the local-key rows, "
                    "verify = codec.open(blob, now=...) on a separate backend instance with its "
                    "own client (as in a handler). Both caches warmed by one mint/open before "
                    "timing, so no KMS call is timed."
                ),
                mint=mint,
                verify=verify,
                speed_target=True,
                max_ratio=MAX_KMS_RATIO,
                max_blob=MAX_ENVELOPE_BLOB if envelope else None,
                max_blob_over=None if envelope else (OURS_ENCRYPTED, MAX_DERIVED_EXTRA),
                aws_blob_extra=(
                    math.ceil((AWS_DATA_KEY_BYTES - MOTO_DATA_KEY_BYTES) * 4 / 3)
                    if envelope
                    else None
                ),
                kms_calls=count_calls(backend, key_id),
            )
        )
    return cases


def original_app_cases(p: Payload) -> list[Case]:
    """The original app's encrypted payloads, reimplemented from its description.

    The payload is ``json.dumps({"token", "iat", "tid", "iss", "exp", "action"})`` (default
    separators; ``tid`` a uuid4 hex; ``iss`` the create-URLs Lambda's ARN, which the deployed app
    always set), encrypted into an AWS Encryption SDK message, base64url-encoded with padding and
    prefixed with the format id. The app used a KMS key; here the data key is wrapped by a local
    AES-256 key (raw master key provider), whose encrypted data key is shorter than KMS's, so the
    lengths below understate the original's. Verify is decode + decrypt + ``json.loads`` only
    (the app also validated a JSON schema): a lower bound.
    """
    import aws_encryption_sdk  # type: ignore[import-untyped]
    from aws_encryption_sdk.identifiers import (  # type: ignore[import-untyped]
        Algorithm,
        CommitmentPolicy,
        EncryptionKeyType,
        WrappingAlgorithm,
    )
    from aws_encryption_sdk.internal.crypto.wrapping_keys import (  # type: ignore[import-untyped]
        WrappingKey,
    )
    from aws_encryption_sdk.key_providers.raw import (  # type: ignore[import-untyped]
        RawMasterKeyProvider,
    )

    class LocalAesKeyProvider(RawMasterKeyProvider):  # type: ignore[misc]
        """A raw AES-256-GCM wrapping key held in memory (the SDK's static-key pattern)."""

        provider_id = "sfn-callback-urls-bench"

        def __init__(self, **kwargs: Any) -> None:
            self._secret = os.urandom(32)

        def _get_raw_key(self, key_id: bytes) -> WrappingKey:
            return WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=self._secret,
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            )

    provider = LocalAesKeyProvider()
    provider.add_master_key(b"bench-key")
    issuer = (
        "arn:aws:lambda:us-east-1:123456789012:function:sfn-callback-urls-CreateUrls-1A2B3C4D5E6F"
    )
    tid = uuid.UUID(p.transaction_id).hex

    def make(
        prefix: str, client: Any, algorithm: Any
    ) -> tuple[Callable[[], str], Callable[[str], str]]:
        extra = {} if algorithm is None else {"algorithm": algorithm}

        def mint() -> str:
            payload = {
                "token": p.token,
                "iat": p.iat,
                "tid": tid,
                "iss": issuer,
                "exp": p.exp,
                "action": p.action,
            }
            message, _header = client.encrypt(
                source=json.dumps(payload).encode(), key_provider=provider, **extra
            )
            return prefix + base64.urlsafe_b64encode(message).decode("ascii")

        def verify(blob: str) -> str:
            version, body = blob.split("-", 1)
            if version + "-" != prefix:
                raise ValueError("wrong format id")
            plaintext, _header = client.decrypt(
                source=base64.urlsafe_b64decode(body), key_provider=provider
            )
            token: str = json.loads(plaintext)["token"]
            return token

        return mint, verify

    # '2-': written by Encryption SDK 1.x, whose default suite is non-committing AES-256-GCM
    # with an ECDSA P-384 signature (message format 1). SDK 4.x still writes it on request.
    v1_client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    mint2, verify2 = make("2-", v1_client, Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384)
    # '3-': the app's current format: SDK 4.x defaults (key-committing suite, ECDSA P-384,
    # message format 2).
    v2_client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    mint3, verify3 = make("3-", v2_client, None)
    return [
        Case(
            name="original app '2-' (Encryption SDK)",
            description=(
                "The original app's '2-' payload: JSON encrypted into an AWS Encryption SDK "
                "message (suite AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384, the SDK 1.x "
                "default), base64url, '2-' prefix. Local raw AES wrapping key instead of KMS."
            ),
            mint=mint2,
            verify=verify2,
            kms_calls=(KMS_COUNT_TOKENS, KMS_COUNT_TOKENS),
            kms_calls_computed=True,
        ),
        Case(
            name="original app '3-' (Encryption SDK 4 defaults)",
            description=(
                "The original app's current '3-' payload: as '2-' but with the SDK 4.x default "
                "key-committing suite (AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)."
            ),
            mint=mint3,
            verify=verify3,
            kms_calls=(KMS_COUNT_TOKENS, KMS_COUNT_TOKENS),
            kms_calls_computed=True,
        ),
    ]


#: Factories of rows, in table order. The first must produce the raw floor.
CASE_FACTORIES: list[Callable[[Payload], list[Case]]] = [
    raw_floor_case,
    our_cases,
    itsdangerous_case,
    fernet_case,
    kms_cases,
    original_app_cases,
]


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    repeat: int = 7
    #: Seconds each repeat should take.
    target_time: float = 0.1


class Timing:
    """Repeated timing of one callable: N calls per repeat, N calibrated to ``target_time``.

    Times are this process's CPU time (``time.process_time``), not wall-clock time: on a shared
    machine, the time spent descheduled while other processes run is not ours to count, and
    CPU per request is what the library promises to keep small.
    """

    def __init__(self, func: Callable[[], object], settings: Settings) -> None:
        self.timer = timeit.Timer(func, timer=time.process_time)
        number = 1
        while True:
            elapsed = self.timer.timeit(number)
            if elapsed >= settings.target_time / 5 or number >= 10**7:
                break
            number *= 10 if elapsed < settings.target_time / 50 else 2
        self.number = max(1, math.ceil(number * settings.target_time / max(elapsed, 1e-9)))
        self.best = math.inf

    def run_once(self) -> None:
        """One repeat; keeps the best time seen."""
        self.best = min(self.best, self.timer.timeit(self.number))

    @property
    def best_us(self) -> float:
        """Best time per call, in microseconds."""
        return self.best / self.number * 1e6


@dataclass
class Result:
    name: str
    description: str
    mint_us: float
    verify_us: float
    blob_chars: int
    url_chars: int
    mint_ratio: float = math.nan
    verify_ratio: float = math.nan
    #: AWS-estimated blob length, for rows measured under moto with a shorter data key.
    aws_blob_chars: int | None = None
    #: KMS calls to mint and to open 1,000 tokens (None: no KMS).
    kms_calls_mint_per_1000: int | None = None
    kms_calls_open_per_1000: int | None = None
    #: True when the KMS calls are computed (the original app's rows), not counted.
    kms_calls_computed: bool = False


def measure_all(cases: Sequence[Case], p: Payload, settings: Settings) -> dict[str, Result]:
    """Time every case's mint and verify: best of ``settings.repeat`` repeats.

    The repeats are interleaved (each round times every case once), so that background load on
    a shared machine, which comes and goes over seconds, falls on all rows alike instead of
    skewing the ratios of whichever rows it happened to coincide with.
    """
    timings: list[tuple[Case, str, int, Timing, Timing]] = []
    for case in cases:
        print(f"checking and calibrating {case.name} ...", file=sys.stderr, flush=True)
        blob = case.mint()
        if case.verify(blob) != p.token:
            raise AssertionError(f"{case.name}: verify did not give back the task token")
        url = (case.url or (lambda b: callback_url(BASE_URL, p.action_model, b)))(blob)
        timings.append(
            (
                case,
                blob,
                len(url),
                Timing(case.mint, settings),
                Timing(functools.partial(case.verify, blob), settings),
            )
        )
    for round_ in range(settings.repeat):
        print(f"round {round_ + 1}/{settings.repeat} ...", file=sys.stderr, flush=True)
        for _case, _blob, _url_chars, mint, verify_timing in timings:
            mint.run_once()
            verify_timing.run_once()
    return {
        case.name: Result(
            name=case.name,
            description=case.description,
            mint_us=mint.best_us,
            verify_us=verify_timing.best_us,
            blob_chars=len(blob),
            url_chars=url_chars,
            aws_blob_chars=None if case.aws_blob_extra is None else len(blob) + case.aws_blob_extra,
            kms_calls_mint_per_1000=None if case.kms_calls is None else case.kms_calls[0],
            kms_calls_open_per_1000=None if case.kms_calls is None else case.kms_calls[1],
            kms_calls_computed=case.kms_calls_computed,
        )
        for case, blob, url_chars, mint, verify_timing in timings
    }


@dataclass
class Target:
    description: str
    measured: str
    met: bool


def check_targets(cases: Sequence[Case], results: dict[str, Result]) -> list[Target]:
    targets = []
    for case in cases:
        r = results[case.name]
        if case.speed_target:
            for what, ratio in (("mint", r.mint_ratio), ("verify", r.verify_ratio)):
                targets.append(
                    Target(
                        f"{case.name} {what} within {case.max_ratio:g}x the raw floor",
                        f"{ratio:.2f}x",
                        ratio <= case.max_ratio,
                    )
                )
        if case.max_blob is not None:
            targets.append(
                Target(
                    f"{case.name} blob <= {case.max_blob:,} chars",
                    f"{r.blob_chars:,}",
                    r.blob_chars <= case.max_blob,
                )
            )
            if r.aws_blob_chars is not None:
                targets.append(
                    Target(
                        f"{case.name} blob, AWS estimate (+{case.aws_blob_extra} chars for a "
                        f"{AWS_DATA_KEY_BYTES}-byte data key instead of moto's "
                        f"{MOTO_DATA_KEY_BYTES}) <= {case.max_blob:,} chars",
                        f"{r.aws_blob_chars:,}",
                        r.aws_blob_chars <= case.max_blob,
                    )
                )
        if case.max_blob_over is not None:
            other, extra = case.max_blob_over
            over = r.blob_chars - results[other].blob_chars
            targets.append(
                Target(
                    f"{case.name} blob at most {extra} chars longer than {other}",
                    f"+{over} ({r.blob_chars:,} vs {results[other].blob_chars:,})",
                    over <= extra,
                )
            )
        if case.max_url is not None:
            targets.append(
                Target(
                    f"{case.name} approve URL <= {case.max_url:,} chars",
                    f"{r.url_chars:,}",
                    r.url_chars <= case.max_url,
                )
            )
    return targets


def machine_info() -> dict[str, Any]:
    from cryptography import __version__ as cryptography_version
    from cryptography.hazmat.backends.openssl.backend import backend

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cryptography": cryptography_version,
        "openssl": backend.openssl_version_text(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


# --- output --------------------------------------------------------------------------------


def _fmt_us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _fmt_kms_calls(r: Result) -> str:
    if r.kms_calls_mint_per_1000 is None or r.kms_calls_open_per_1000 is None:
        return "-"
    if r.kms_calls_mint_per_1000 == r.kms_calls_open_per_1000 == 0:
        return "0"
    text = f"{r.kms_calls_mint_per_1000:,} + {r.kms_calls_open_per_1000:,}"
    return text + ("¹" if r.kms_calls_computed else "")


KMS_FOOTNOTE = (
    "KMS calls / 1,000 tokens: mint + open, counted with a botocore before-call hook while "
    f"minting and opening {KMS_COUNT_TOKENS:,} fresh tokens with cold backends; 0 for local "
    "keys, - for rows without keys of this library."
)
ORIGINAL_FOOTNOTE = (
    "¹ Computed, not counted: the original app calls KMS once per token (GenerateDataKey "
    "to mint, Decrypt to verify, with no data key cache), so 1,000 per 1,000 on each side. "
    "Its rows here use a local raw AES key and make no KMS call."
)


def markdown_table(results: Sequence[Result]) -> str:
    header = (
        "| Implementation | mint µs | verify µs | mint vs floor | verify vs floor "
        "| blob chars | approve URL chars | KMS calls / 1,000 tokens |"
    )
    lines = [header, "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        blob = f"{r.blob_chars:,}"
        if r.aws_blob_chars is not None:
            blob += f" (AWS ~{r.aws_blob_chars:,})"
        lines.append(
            f"| {r.name} | {_fmt_us(r.mint_us)} | {_fmt_us(r.verify_us)} "
            f"| {r.mint_ratio:.2f}x | {r.verify_ratio:.2f}x | {blob} | {r.url_chars:,} "
            f"| {_fmt_kms_calls(r)} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 3 short repeats (numbers are rough)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", type=int, help="repeats per measurement (default 7)")
    parser.add_argument(
        "--target-time", type=float, help="seconds per repeat (default 0.1)", metavar="SECONDS"
    )
    args = parser.parse_args(argv)

    settings = Settings(repeat=3, target_time=0.005) if args.quick else Settings()
    if args.repeat is not None:
        settings = Settings(repeat=args.repeat, target_time=settings.target_time)
    if args.target_time is not None:
        settings = Settings(repeat=settings.repeat, target_time=args.target_time)

    info = machine_info()  # before measuring: the load average is then other processes' load
    payload = Payload.default()
    cases: list[Case] = []
    skipped: list[str] = []
    for factory in CASE_FACTORIES:
        try:
            cases.extend(factory(payload))
        except ImportError as exc:
            skipped.append(f"{factory.__name__}: {exc}")
    if not cases or cases[0].name != FLOOR:
        raise SystemExit("the raw floor must be the first case")

    results = measure_all(cases, payload, settings)
    floor = results[FLOOR]
    for r in results.values():
        r.mint_ratio = r.mint_us / floor.mint_us
        r.verify_ratio = r.verify_us / floor.verify_us
    targets = check_targets(cases, results)
    ok = all(t.met for t in targets)

    if args.json:
        report = {
            "machine": info,
            "settings": asdict(settings),
            "payload": {
                "token_chars": len(payload.token),
                "action": payload.action,
                "expires_in_seconds": int(EXPIRES_IN.total_seconds()),
                "base_url": BASE_URL,
            },
            "results": [asdict(r) for r in results.values()],
            "notes": [KMS_FOOTNOTE, ORIGINAL_FOOTNOTE],
            "targets": [asdict(t) for t in targets],
            "skipped": skipped,
            "ok": ok,
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(
            f"Python {info['python']} ({info['implementation']}), nproc {info['nproc']}, "
            f"{info['platform']}, cryptography {info['cryptography']}, {info['openssl']}; "
            f"best of {settings.repeat} interleaved repeats of "
            f"~{settings.target_time:g} s of CPU time"
            + (" (--quick: rough numbers)" if args.quick else "")
        )
        load = info["load_average_at_start"]
        if load is not None and load > 0.5:
            print(
                f"Warning: load average {load:.2f} at start: other processes share the CPUs, "
                "so the timings (and the ratios) may be noisy. Rerun on a quiet machine."
            )
        print()
        print(markdown_table(list(results.values())))
        print()
        print(KMS_FOOTNOTE)
        if any(r.kms_calls_computed for r in results.values()):
            print(ORIGINAL_FOOTNOTE)
        print()
        print("Targets:")
        for t in targets:
            print(
                f"- [{'x' if t.met else ' '}] {t.description}: {t.measured} -> "
                f"{'met' if t.met else 'MISSED'}"
            )
        for note in skipped:
            print(f"(skipped {note})")
        print()
        print("All targets met." if ok else "Some targets were MISSED.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
