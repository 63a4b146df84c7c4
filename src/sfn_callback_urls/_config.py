"""The environment to settings: keys, purpose, mode, base URL and switches, in one place.

The ready Lambda app, ``sfn-callback-urls serve``, ``inspect`` and ``mint`` and
`Codec.from_environment()` all read their configuration here, so a URL minted by one of them
opens in any other configured the same way.

The key, from any of (``docs/deploy.md`` has the full story):

- ``KEY_ID``: a KMS key id, ARN or alias (envelope encryption);
- ``SFN_CALLBACK_URLS_KEY``: a local keyring string (``sfncu1_...``, several separated by commas,
  the primary first);
- ``SFN_CALLBACK_URLS_WRAPPED_KEY``: a KMS-wrapped keyring (``sfncukms1_...``);
- ``SFN_CALLBACK_URLS_PARAMETER``: the name of an SSM parameter holding either keyring form.

``KEY_ID`` may be set with one of the other three: the KMS key mints, and the keyring's keys still
open the URLs they minted. The others are exclusive.

The rest: ``SFN_CALLBACK_URLS_PURPOSE`` (default ``sfn-callback-urls``),
``SFN_CALLBACK_URLS_MODE`` (``encrypted``, the default, or ``signed``), ``CALLBACK_BASE_URL``,
and the switches ``ENABLE_OUTPUT_PARAMETERS``, ``ENABLE_POST_ACTIONS`` and ``CONFIRM_GET``
(``true``/``1``/``yes`` in any case enables; anything else, or unset, disables).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._codec import DEFAULT_PURPOSE, Codec, Mode
from .errors import ConfigurationError, KeyUnavailable
from .keys._aws import error_code, is_aws_error, make_client
from .keys._base import KeyBackend
from .keys._keyring import Keyring
from .keys._kms_envelope import KmsEnvelopeKey
from .keys._wrapped import WRAPPED_KEYRING_PREFIX, load_wrapped_cached

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENV_BASE_URL",
    "ENV_CONFIRM_GET",
    "ENV_ENABLE_OUTPUT_PARAMETERS",
    "ENV_ENABLE_POST_ACTIONS",
    "ENV_KEY",
    "ENV_KEY_ID",
    "ENV_MODE",
    "ENV_PARAMETER",
    "ENV_PURPOSE",
    "ENV_WRAPPED_KEY",
    "KEY_VARIABLES",
    "Settings",
    "flag",
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
#: The purpose every blob is bound to; give each deployment its own.
ENV_PURPOSE = "SFN_CALLBACK_URLS_PURPOSE"
#: How blobs are sealed: ``encrypted`` (the default) or ``signed``.
ENV_MODE = "SFN_CALLBACK_URLS_MODE"
#: The base URL callback URLs start with (``/respond`` is appended).
ENV_BASE_URL = "CALLBACK_BASE_URL"
#: Let query parameters fill ``$templates`` in outputs (URLs must opt in too).
ENV_ENABLE_OUTPUT_PARAMETERS = "ENABLE_OUTPUT_PARAMETERS"
#: Allow ``post`` actions (minted and handled).
ENV_ENABLE_POST_ACTIONS = "ENABLE_POST_ACTIONS"
#: Ask for a confirmation before acting on a GET (link scanners in mail systems click links).
ENV_CONFIRM_GET = "CONFIRM_GET"

#: Every variable that configures a key.
KEY_VARIABLES = (ENV_KEY_ID, ENV_KEY, ENV_WRAPPED_KEY, ENV_PARAMETER)

_TRUTHY = frozenset({"true", "1", "yes"})
_MODES = {"encrypted": Mode.ENCRYPTED, "signed": Mode.SIGNED}


def flag(environ: Mapping[str, str], name: str) -> bool:
    """Whether the switch ``name`` is on: ``true``, ``1`` or ``yes`` in any case."""
    return environ.get(name, "").strip().lower() in _TRUTHY


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
        code = error_code(error)
        if code == "ParameterNotFound":
            raise ConfigurationError(
                f"{ENV_PARAMETER} names an SSM parameter that does not exist."
            ) from None
        raise KeyUnavailable(
            f"The keyring parameter is unavailable: SSM GetParameter failed with {code}.",
            aws_code=code,
            original_error=error,
        ) from error
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


def _mode(environ: Mapping[str, str]) -> Mode:
    text = environ.get(ENV_MODE, "").strip().lower() or "encrypted"
    try:
        return _MODES[text]
    except KeyError:
        raise ConfigurationError(f"{ENV_MODE} must be 'encrypted' or 'signed'.") from None


@dataclass(frozen=True)
class Settings:
    """Everything the environment configures.

    Attributes:
        keyring: the keys; the first mints.
        purpose: the purpose blobs are bound to.
        mode: how blobs are sealed.
        base_url: the default base URL of callback URLs, if configured.
        enable_output_parameters: allow output parameters (minting and handling).
        enable_post_actions: allow ``post`` actions (minting and handling).
        confirm_get: ask for a confirmation before acting on a GET.
    """

    keyring: Keyring
    purpose: str = DEFAULT_PURPOSE
    mode: Mode = Mode.ENCRYPTED
    base_url: str | None = None
    enable_output_parameters: bool = False
    enable_post_actions: bool = False
    confirm_get: bool = False

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        kms_client: KMSClient | None = None,
        session: Session | None = None,
    ) -> Settings:
        """Read the settings (see the module docstring).

        Raises:
            ConfigurationError: no key, or an invalid setting; the message names the variable.
            KeyUnavailable: KMS or SSM failed while loading a wrapped keyring.
        """
        return cls(
            keyring=keyring_from_environment(environ, client=kms_client, session=session),
            purpose=environ.get(ENV_PURPOSE, "").strip() or DEFAULT_PURPOSE,
            mode=_mode(environ),
            base_url=environ.get(ENV_BASE_URL, "").strip() or None,
            enable_output_parameters=flag(environ, ENV_ENABLE_OUTPUT_PARAMETERS),
            enable_post_actions=flag(environ, ENV_ENABLE_POST_ACTIONS),
            confirm_get=flag(environ, ENV_CONFIRM_GET),
        )

    def codec(self) -> Codec:
        """A codec with these keys, mode and purpose."""
        return Codec(self.keyring, mode=self.mode, purpose=self.purpose)
