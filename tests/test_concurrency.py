"""The codec, keyrings and KMS data-key caches under many threads at once.

Each test runs thousands of mint-and-open round trips on a 16-worker thread pool, sharing one
codec (and so its one-entry header cache) and one key backend (and so its data-key caches)
between all workers, and checks that every round trip gives back exactly what was sealed. The
KMS tests use small ``max_uses`` so data keys run out, and are replaced, many times during the
run, while other threads mint and open; they also count the KMS calls, because a cache that
races shows up as extra calls before it shows up as a wrong answer.
"""

from __future__ import annotations

import itertools
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from helpers import (  # tests/ is on sys.path
    KMS_KINDS,
    KmsCalls,
    KmsKey,
    key_header_of,
    key_id_of,
    kms_backend,
    new_kms_key,
    synthetic_token,
)
from sfn_callback_urls import (
    Claims,
    Codec,
    FailureAction,
    Keyring,
    LocalKey,
    Mode,
    SuccessAction,
)
from sfn_callback_urls._claims import new_transaction_id
from sfn_callback_urls._time import utcnow

WORKERS = 16
LOCAL_ROUND_TRIPS = 4000
KMS_ROUND_TRIPS = 1500
MAX_USES = 25


@pytest.fixture(autouse=True)
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond instead of every 5 ms, so races get their chance."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def make_claims(index: int) -> Claims:
    """Distinct claims for round trip ``index``: real-shaped or uuid tokens, both action types."""
    # moto's shape (stored as text) or AWS's (stored raw).
    token = str(uuid.uuid4()) if index % 3 == 0 else synthetic_token(index)
    action: SuccessAction | FailureAction
    if index % 2 == 0:
        action = SuccessAction(name="approve", output={"request": index, "by": f"user{index}"})
    else:
        action = FailureAction(name="reject", error="rejected", cause=f"request {index} said no")
    now = utcnow()
    return Claims(
        token=token,
        action=action,
        transaction_id=new_transaction_id(),
        issued_at=now,
        expires_at=now + timedelta(hours=1),
    )


def run_round_trips(
    count: int,
    minting_codec: Callable[[int], Codec],
    opening_codec: Callable[[int], Codec],
) -> list[str]:
    """Mint and open ``count`` blobs on the pool; every opened claim must equal the sealed one.

    The codecs are looked up per round trip, so a caller can rotate them while the pool runs.
    Returns the blobs, in round-trip order.
    """
    start = threading.Barrier(WORKERS)

    def warm_up(_: int) -> None:
        # All workers wait for each other once, so the round trips really start together.
        start.wait(timeout=10)

    def round_trip(index: int) -> str:
        claims = make_claims(index)
        blob = minting_codec(index).seal(claims)
        opened = opening_codec(index).open(blob)
        assert opened.token == claims.token
        assert opened.action == claims.action
        assert opened.transaction_id == claims.transaction_id
        assert opened.expires_at == claims.expires_at.replace(microsecond=0)  # type: ignore[union-attr]
        return blob

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(warm_up, range(WORKERS)))
        # map() re-raises the first exception of any round trip here.
        return list(pool.map(round_trip, range(count), chunksize=8))


# --- local keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [Mode.ENCRYPTED, Mode.SIGNED])
def test_one_local_key_many_threads(mode: Mode) -> None:
    """One codec and one local key shared by 16 threads: every round trip is exact."""
    codec = Codec(LocalKey.generate(), mode=mode, purpose="concurrency")
    blobs = run_round_trips(LOCAL_ROUND_TRIPS, lambda _: codec, lambda _: codec)
    assert len(set(blobs)) == LOCAL_ROUND_TRIPS


def test_keyring_rotation_mid_run() -> None:
    """Keys rotated twice while 16 threads mint and open: old blobs still open, all are exact.

    Rotation is what a deployment does: a new codec whose keyring puts a new key first and keeps
    the old ones. The minting and opening sides each read the current codec when they need it,
    so blobs minted just before a rotation are opened by the codec after it.
    """
    keys = [LocalKey.generate() for _ in range(3)]
    codecs = [
        Codec(Keyring(keys[generation::-1]), purpose="concurrency") for generation in range(3)
    ]
    current = {"codec": codecs[0]}
    rotations = iter([(LOCAL_ROUND_TRIPS // 3, codecs[1]), (2 * LOCAL_ROUND_TRIPS // 3, codecs[2])])
    next_rotation = next(rotations)
    lock = threading.Lock()
    counter = itertools.count()

    def minting(_: int) -> Codec:
        nonlocal next_rotation
        done = next(counter)
        with lock:
            if next_rotation is not None and done >= next_rotation[0]:
                current["codec"] = next_rotation[1]
                next_rotation = next(rotations, None)
        return current["codec"]

    blobs = run_round_trips(LOCAL_ROUND_TRIPS, minting, lambda _: current["codec"])
    assert current["codec"] is codecs[2]
    used = {key_id_of(blob) for blob in blobs}
    assert used == {key.key_id for key in keys}


# --- KMS data-key caches ---------------------------------------------------------------------


def kms_backends(kms: Any, kind: str, **kwargs: Any) -> tuple[KmsKey, KmsKey]:
    """A minting and an opening backend for one new KMS key of ``kind``, as two processes have."""
    arn = new_kms_key(kms, kind)
    minting = kms_backend(kind, arn, client=kms, max_uses=MAX_USES, **kwargs)
    return minting, kms_backend(kind, arn, client=kms, max_uses=MAX_USES, **kwargs)


@pytest.mark.parametrize("kind", KMS_KINDS)
def test_kms_data_keys_rotate_under_threads(kms: Any, kind: str) -> None:
    """Data keys run out every 25 blobs under 16 threads: all exact, one KMS call per data key.

    The opening backend is another instance (a handler elsewhere) with a cache large enough
    for every data key, so each one is recovered from KMS exactly once even when many threads
    miss on it at the same moment; the minting side asks KMS for exactly one data key per
    ``max_uses`` blobs, however the threads interleave.
    """
    minting, opening = kms_backends(kms, kind)
    calls = KmsCalls(kms)
    mint_codec = Codec(minting, purpose="concurrency")
    open_codec = Codec(opening, purpose="concurrency")
    blobs = run_round_trips(KMS_ROUND_TRIPS, lambda _: mint_codec, lambda _: open_codec)

    data_keys = -(-KMS_ROUND_TRIPS // MAX_USES)
    headers = [key_header_of(blob) for blob in blobs]
    assert len(set(headers)) == data_keys
    # No data key minted more than max_uses blobs (the count is exact, not approximate).
    assert max(headers.count(header) for header in set(headers)) == MAX_USES
    if kind == "envelope":
        assert calls.counts() == {"GenerateDataKey": data_keys, "Decrypt": data_keys}
    else:
        # Minting and opening each derive every data key once.
        assert calls.counts() == {"GenerateMac": 2 * data_keys}


@pytest.mark.parametrize("kind", KMS_KINDS)
def test_kms_tiny_cache_under_threads(kms: Any, kind: str) -> None:
    """An opening cache of 2 data keys, evicting all the time under 16 threads: all exact."""
    minting, opening = kms_backends(kms, kind, cache_size=2)
    mint_codec = Codec(minting, purpose="concurrency")
    # Blobs minted by the minting backend opened by both: the minting backend's own cache
    # (its minting entry does not fill the opening cache) and the other instance's.
    codecs = [Codec(opening, purpose="concurrency"), Codec(minting, purpose="concurrency")]
    run_round_trips(KMS_ROUND_TRIPS, lambda _: mint_codec, lambda index: codecs[index % 2])


def test_keyring_rotation_from_local_to_kms_mid_run(kms: Any) -> None:
    """A local-key keyring rotated to a KMS envelope key first, mid-run: every round trip exact."""
    local = LocalKey.generate()
    minting, opening = kms_backends(kms, "envelope")
    before = Codec(local, purpose="concurrency")
    after_mint = Codec(Keyring([minting, local]), purpose="concurrency")
    after_open = Codec(Keyring([opening, local]), purpose="concurrency")
    half = KMS_ROUND_TRIPS // 2
    blobs = run_round_trips(
        KMS_ROUND_TRIPS,
        lambda index: before if index < half else after_mint,
        lambda _: after_open,
    )
    assert {key_id_of(blob) for blob in blobs} == {local.key_id, minting.key_id}
