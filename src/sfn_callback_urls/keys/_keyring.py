"""A keyring: the first key mints, every key opens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .._contract import MAX_KEY_ID_LENGTH
from ..errors import ConfigurationError
from ._base import KeyBackend
from ._local import LocalKey

__all__ = ["Keyring"]


class Keyring:
    """An ordered collection of key backends: the first (the primary) mints, all of them open.

    Each key opens the blobs that carry its key id.
    Rotate by putting a new key first and keeping the old ones until every URL they minted has
    expired. Local and KMS keys can be mixed; the key id in a blob picks the backend.
    """

    __slots__ = ("_by_id", "_keys")

    def __init__(self, keys: Iterable[KeyBackend]) -> None:
        self._keys: tuple[KeyBackend, ...] = tuple(keys)
        if not self._keys:
            raise ConfigurationError("A keyring needs at least one key.")
        self._by_id: dict[bytes, KeyBackend] = {}
        for key in self._keys:
            key_id = key.key_id
            if not 1 <= len(key_id) <= MAX_KEY_ID_LENGTH:
                raise ConfigurationError("A key id must be 1 to 32 bytes long.")
            if key_id in self._by_id:
                raise ConfigurationError(f"Two keys share the key id {key_id.hex()}.")
            self._by_id[key_id] = key

    @classmethod
    def of(cls, keys: Keyring | KeyBackend | Iterable[KeyBackend]) -> Keyring:
        """Coerce a keyring, a single key or a sequence of keys into a keyring."""
        if isinstance(keys, Keyring):
            return keys
        if isinstance(keys, KeyBackend):
            return cls([keys])
        return cls(keys)

    @classmethod
    def from_string(cls, text: str) -> Keyring:
        """Load local keys from ``key1,key2,...`` (commas or whitespace), primary first."""
        parts = [part for part in text.replace(",", " ").split() if part]
        if not parts:
            raise ConfigurationError("The keyring string holds no key.")
        return cls(LocalKey.from_string(part) for part in parts)

    @property
    def primary(self) -> KeyBackend:
        """The key that mints."""
        return self._keys[0]

    def get(self, key_id: bytes) -> KeyBackend | None:
        """The key with ``key_id``, or ``None``."""
        return self._by_id.get(key_id)

    def __iter__(self) -> Iterator[KeyBackend]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        ids = ", ".join(key.key_id.hex() for key in self._keys)
        return f"Keyring([{ids}])"
