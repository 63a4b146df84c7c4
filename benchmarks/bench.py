"""Mint/verify time and blob length of sfn-callback-urls against a raw floor and other formats.

Run with ``nox -s bench`` or ``python benchmarks/bench.py`` (``--quick`` for a smoke test,
``--json`` for machine-readable output). Every implementation seals the same payload: a task
token of the real shape and the blog post's approve action, expiring in 7 days.

Each row is a :class:`Case`: a name, a ``mint()`` callable returning a blob, a ``verify(blob)``
callable returning the task token it recovered, and optionally how to build its approve URL and
which targets apply. To add rows (KMS backends, say), write a factory that returns cases and
append it to :data:`CASE_FACTORIES`. A factory may raise :class:`ImportError` to skip its rows
when an optional library is missing.

The exit status is 1 when a target is missed, so ``nox -s bench`` doubles as a check.
"""

from __future__ import annotations

import argparse
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

from sfn_callback_urls import Claims, Codec, LocalKey, Minter, Mode, SuccessAction
from sfn_callback_urls.urls import callback_url

#: API Gateway-shaped base URL for the approve URL's length.
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
#: Lifetime of the URLs, as in the blog post.
EXPIRES_IN = timedelta(days=7)
#: Speed target: our mint and verify within this factor of the raw floor.
MAX_RATIO = 2.0
#: Length targets (characters).
MAX_ENCRYPTED_BLOB = 900
MAX_URL = 1024  # classic Outlook cuts links here

FLOOR = "raw floor: AES-256-GCM + json + base64url"


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
    """

    name: str
    description: str
    mint: Callable[[], str]
    verify: Callable[[str], str]
    url: Callable[[str], str] | None = None
    speed_target: bool = False
    max_blob: int | None = None
    max_url: int | None = None


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
        ),
        Case(
            name="original app '3-' (Encryption SDK 4 defaults)",
            description=(
                "The original app's current '3-' payload: as '2-' but with the SDK 4.x default "
                "key-committing suite (AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)."
            ),
            mint=mint3,
            verify=verify3,
        ),
    ]


#: Factories of rows, in table order. The first must produce the raw floor.
CASE_FACTORIES: list[Callable[[Payload], list[Case]]] = [
    raw_floor_case,
    our_cases,
    itsdangerous_case,
    fernet_case,
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
                        f"{case.name} {what} within {MAX_RATIO:g}x the raw floor",
                        f"{ratio:.2f}x",
                        ratio <= MAX_RATIO,
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


def markdown_table(results: Sequence[Result]) -> str:
    header = (
        "| Implementation | mint µs | verify µs | mint vs floor | verify vs floor "
        "| blob chars | approve URL chars |"
    )
    lines = [header, "|---|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        lines.append(
            f"| {r.name} | {_fmt_us(r.mint_us)} | {_fmt_us(r.verify_us)} "
            f"| {r.mint_ratio:.2f}x | {r.verify_ratio:.2f}x | {r.blob_chars:,} | {r.url_chars:,} |"
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
