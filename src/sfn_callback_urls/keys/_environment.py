"""Where the keys come from, as the environment names them: KMS, a keyring, or SSM.

``KEY_ID`` (a KMS key: envelope encryption) may be set with one of the three keyring variables
(``SFN_CALLBACK_URLS_KEY``, ``SFN_CALLBACK_URLS_WRAPPED_KEY``, ``SFN_CALLBACK_URLS_PARAMETER``):
the KMS key mints and the keyring's keys still open the URLs they minted. The three are exclusive.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._aws import error_code, is_aws_error, key_unavailable, make_client
from ._base import KeyBackend
from ._keyring import Keyring
from ._kms_envelope import KmsEnvelopeKey
from ._wrapped import WRAPPED_KEYRING_PREFIX, load_wrapped_cached

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENV_KEY",
    "ENV_KEY_ID",
    "ENV_PARAMETER",
    "ENV_WRAPPED_KEY",
    "KEY_VARIABLES",
    "keyring_from_environment",
]

#: A KMS key id, ARN or alias: blobs are sealed with KMS envelope encryption.
ENV_KEY_ID = "KEY_ID"
#: A plain local keyring string (``sfncu1_...,sfncu1_...``, the primary first).
ENV_KEY = "SFN_CALLBACK_URLS_KEY"
#: A KMS-wrapped keyring string (``sfncukms1_...``).
ENV_WRAPPED_KEY = "SFN_CALLBACK_URLS_WRAPPED_KEY"
#: The name of an SSM parameter holding either keyring form.
ENV_PARAMETER = "SFN_CALLBACK_URLS_PARAMETER"
#: Every variable that configures a key.
KEY_VARIABLES = (ENV_KEY_ID, ENV_KEY, ENV_WRAPPED_KEY, ENV_PARAMETER)


def _keyring_from_text(
    text: str, source: str, client: KMSClient | None, session: Session | None
) -> Keyring:
    if text.strip().startswith(WRAPPED_KEYRING_PREFIX):
        return load_wrapped_cached(text, client, session)
    try:
        return Keyring.from_string(text)
    except ConfigurationError as error:
        raise ConfigurationError(f"{source}: {error.message}") from None


def _read_parameter(name: str, ssm_client: Any, session: Session | None) -> str:
    ssm = ssm_client if ssm_client is not None else make_client("ssm", session)
    try:
        response = ssm.get_parameter(Name=name, WithDecryption=True)
    except Exception as error:
        if not is_aws_error(error):
            raise
        if error_code(error) == "ParameterNotFound":
            raise ConfigurationError(
                f"{ENV_PARAMETER} names an SSM parameter that does not exist."
            ) from None
        raise key_unavailable("SSM GetParameter", error, subject="The keyring parameter") from error
    return str(response["Parameter"]["Value"])


def _local_keyring(
    environ: Mapping[str, str],
    client: KMSClient | None,
    ssm_client: Any,
    session: Session | None,
) -> Keyring | None:
    names = [name for name in (ENV_KEY, ENV_WRAPPED_KEY, ENV_PARAMETER) if environ.get(name)]
    if not names:
        return None
    if len(names) > 1:
        raise ConfigurationError(f"Set only one of {', '.join(names)}.")
    name = names[0]
    value = environ[name]
    if name == ENV_KEY:
        return _keyring_from_text(value, ENV_KEY, client, session)
    if name == ENV_WRAPPED_KEY:
        if not value.strip().startswith(WRAPPED_KEYRING_PREFIX):
            raise ConfigurationError(
                f"{ENV_WRAPPED_KEY} must start with {WRAPPED_KEYRING_PREFIX!r}."
            )
        return load_wrapped_cached(value, client, session)
    text = _read_parameter(value.strip(), ssm_client, session)
    return _keyring_from_text(text, f"The SSM parameter in {ENV_PARAMETER}", client, session)


def keyring_from_environment(
    environ: Mapping[str, str] = os.environ,
    *,
    client: KMSClient | None = None,
    ssm_client: Any = None,
    session: Session | None = None,
) -> Keyring:
    """The keyring the environment configures (see the module docstring).

    A wrapped keyring is decrypted with one KMS call per process (cached by its string, so a
    Lambda cold start pays one call and warm invocations none); an SSM parameter is read on
    every call, so call this once and keep the keyring.

    Args:
        environ: where to look (default: ``os.environ``).
        client: the KMS client (KMS keys and wrapped keyrings); by default built on first use.
        ssm_client: the SSM client for the parameter.
        session: a boto3 session for the clients not given.

    Raises:
        ConfigurationError: no key, several exclusive ones, or an invalid one; the message
            names the variable and never echoes its value.
        KeyUnavailable: KMS or SSM failed.
    """
    kms_key_id = environ.get(ENV_KEY_ID, "").strip()
    local = _local_keyring(environ, client, ssm_client, session)
    if not kms_key_id and local is None:
        raise ConfigurationError(
            f"No key configured: set {ENV_KEY_ID} (a KMS key id, ARN or alias) or {ENV_KEY} "
            f"(a local keyring from `sfn-callback-urls keygen`); {ENV_WRAPPED_KEY} and "
            f"{ENV_PARAMETER} work too."
        )
    if not kms_key_id and local is not None:
        return local
    keys: list[KeyBackend] = [KmsEnvelopeKey(kms_key_id, client=client, session=session)]
    if local is not None:
        keys.extend(local)
    return Keyring(keys)
