"""Key backends: where the secrets that seal blobs come from."""

from .base import DataKey, KeyBackend
from .keyring import Keyring
from .kms import (
    KmsDerivedKey,
    KmsEnvelopeKey,
    keyring_from_environment,
    load_wrapped_keyring,
    wrap_keyring,
)
from .local import LocalKey

__all__ = [
    "DataKey",
    "KeyBackend",
    "Keyring",
    "KmsDerivedKey",
    "KmsEnvelopeKey",
    "LocalKey",
    "keyring_from_environment",
    "load_wrapped_keyring",
    "wrap_keyring",
]
