"""The shared base of key backends whose data keys come from a remote key store (KMS).

A remote call per token would be slow and costly, so `CachedKeyBackend` keeps:

- on the minting side, one data key per purpose, replaced after ``max_age`` or ``max_uses``;
- on the opening side, a bounded LRU of recovered data keys by ``(purpose, key header)``, whose
  entries also expire after ``max_age`` (so a disabled key stops warm handlers in time).

A subclass says how to make a new data key, how to check a header before any remote call, and
how to recover a data key from a header; `KmsEnvelopeKey` and `KmsDerivedKey` are the two.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import timedelta
from typing import Generic, TypeVar

from .._contract import MAX_KEY_ID_LENGTH
from ..errors import ConfigurationError, InvalidPayload
from ._base import DataKey

__all__ = ["REFUSED_CACHE_SIZE", "REFUSED_TTL_SECONDS", "CachedKeyBackend", "RefusedHeaders"]

_K = TypeVar("_K", bound=Hashable)
_WIRE_ID_LENGTH = 4
#: Key headers the key store refused (a forged or damaged data key) are remembered this long, so
#: that one forged URL replayed N times costs one remote call, not N; bounded, oldest first out.
#: The original app's ``2-`` URLs (``_original``) are remembered by the same rule.
REFUSED_TTL_SECONDS = 60.0
#: How many refused headers are remembered at most.
REFUSED_CACHE_SIZE = 4096


class _LruCache(Generic[_K]):
    """A bounded, thread-safe LRU of data keys whose entries also expire after ``max_age``.

    Concurrent misses on the same key wait for one load instead of each calling the key store.
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


class RefusedHeaders:
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


class CachedKeyBackend:
    """A `KeyBackend` over a remote key store, with both caches (see the module docstring).

    Args:
        key_id: the remote key's id (for KMS: a key id, ARN or alias).
        wire_id: the key id written into blobs (1 to 32 bytes); by default the first 4 bytes of
            SHA-256 over the class's ``_ID_PREFIX`` and ``key_id``.
        max_age: how long a data key is used for minting, and how long a recovered one is kept.
        max_uses: how many blobs one data key mints before a new one is made.
        cache_size: how many recovered data keys the opening side keeps (LRU).
        clock: monotonic seconds, for the cache limits; tests pass a fake.
    """

    __slots__ = (
        "_clock",
        "_key_id",
        "_max_age",
        "_max_uses",
        "_mint_lock",
        "_minting",
        "_opened",
        "_refused",
        "_wire_id",
    )
    _ID_PREFIX: bytes = b""

    def __init__(
        self,
        key_id: str,
        *,
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
        if wire_id is None:
            wire_id = hashlib.sha256(self._ID_PREFIX + key_id.encode("utf-8")).digest()
            wire_id = wire_id[:_WIRE_ID_LENGTH]
        if not 1 <= len(wire_id) <= MAX_KEY_ID_LENGTH:
            raise ConfigurationError("A key id must be 1 to 32 bytes long.")
        self._key_id = key_id
        self._wire_id = bytes(wire_id)
        self._max_age = max_age.total_seconds()
        self._max_uses = max_uses
        self._clock = clock
        self._mint_lock = threading.Lock()
        self._minting: dict[str, _MintingEntry] = {}
        self._opened: _LruCache[tuple[str, bytes]] = _LruCache(cache_size, self._max_age, clock)
        self._refused = RefusedHeaders(REFUSED_CACHE_SIZE, REFUSED_TTL_SECONDS, clock)

    @property
    def key_id(self) -> bytes:
        """The key id written into blobs (the ``wire_id``), not the remote key's id."""
        return self._wire_id

    def mint_key(self, purpose: str) -> tuple[bytes, DataKey]:
        """A cached data key for ``purpose``; a new one when it is too old or too used.

        Raises:
            KeyUnavailable: the key store failed (disabled or missing key, access denied, ...).
        """
        # One lock for minting, held during the remote call: when a data key runs out, the
        # other minters wait for its successor instead of each asking for one.
        with self._mint_lock:
            entry = self._minting.get(purpose)
            now = self._clock()
            if (
                entry is None
                or entry.uses >= self._max_uses
                or now - entry.created >= self._max_age
            ):
                header, secret = self._new_data_key(purpose)
                entry = _MintingEntry(header, DataKey(secret), now)
                self._minting[purpose] = entry
            entry.uses += 1
            return entry.header, entry.data_key

    def open_key(self, key_header: bytes, purpose: str) -> DataKey:
        """The data key of a blob's ``key_header``, from the cache or from the key store.

        A header the key store refused is remembered (by digest and purpose) for 60 seconds, so
        a forged URL replayed many times costs one remote call per minute, not one per request.
        Failures of the key store itself (``KeyUnavailable``) are never remembered.

        Raises:
            InvalidPayload: the header cannot be one we minted for this key and purpose.
            KeyUnavailable: the key store failed (disabled or missing key, access denied, ...).
        """
        self._check_header(key_header)
        refused = (purpose, hashlib.sha256(key_header).digest())

        def load() -> DataKey:
            # Runs under the cache's per-header lock: concurrent replays of one forgery wait
            # for the first answer, then find it here.
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
        """A new ``(key_header, 32-byte secret)`` bound to ``purpose``."""
        raise NotImplementedError

    def _check_header(self, key_header: bytes) -> None:
        """Raise `InvalidPayload` for a header that cannot be ours, before any remote call."""
        raise NotImplementedError

    def _recover_secret(self, key_header: bytes, purpose: str) -> bytes:
        """The 32-byte secret of ``key_header`` for ``purpose``, from the key store."""
        raise NotImplementedError
