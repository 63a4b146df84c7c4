"""Key backends: where the secrets that seal blobs come from.

- `LocalKey`: a 256-bit secret you keep (``sfn-callback-urls keygen``);
- `Keyring`: several keys, the first mints and all open (rotation);
- `KmsEnvelopeKey` and `KmsDerivedKey`: data keys rooted in AWS KMS, cached so that KMS sees one
  call per data key, not per token (``docs/kms.md`` compares them);
- `wrap_keyring()` / `load_wrapped_keyring()`: local keys stored encrypted under KMS.

To plug in another key store, implement `KeyBackend` (two methods); `DataKey` is what they
return.
"""

from ._base import DataKey, KeyBackend
from ._keyring import Keyring
from ._kms_derived import KmsDerivedKey
from ._kms_envelope import KmsEnvelopeKey
from ._local import LocalKey
from ._wrapped import load_wrapped_keyring, wrap_keyring

__all__ = [
    "DataKey",
    "KeyBackend",
    "Keyring",
    "KmsDerivedKey",
    "KmsEnvelopeKey",
    "LocalKey",
    "load_wrapped_keyring",
    "wrap_keyring",
]
