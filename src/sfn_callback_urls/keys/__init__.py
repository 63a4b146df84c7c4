"""Key backends: where the secrets that seal blobs come from."""

from .base import DataKey, KeyBackend
from .keyring import Keyring
from .local import LocalKey

__all__ = ["DataKey", "KeyBackend", "Keyring", "LocalKey"]
