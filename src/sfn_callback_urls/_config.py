"""The environment to settings: keys, purpose, mode, base URL and switches, in one place.

The ready Lambda app, ``sfn-callback-urls serve``, ``inspect`` and ``mint`` all read their
configuration here, so a URL minted by one of them opens in any other configured the same way.
This module is the top layer's: the core never imports it. The readers of the codec's own
variables (keys in ``keys._environment``, mode and purpose in ``_codec``) live below, so that
`Codec.from_environment()` reads the same variables the same way without importing this.

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
and the switches ``ENABLE_OUTPUT_PARAMETERS``, ``ENABLE_POST_ACTIONS``, ``CONFIRM_GET``,
``CHECK_TASK_BEFORE_CONFIRM``, ``ACCEPT_ORIGINAL_URLS`` and ``VERBOSE`` (``true``/``1``/``yes``
in any case enables; anything else, or unset, disables); ``SFN_CALLBACK_URLS_PAGE_THEME``, the
approver's pages' look and words as a JSON object (`PageTheme`).

The original app's variables keep their meaning, so that its stack can run this package:

- ``DISABLE_OUTPUT_PARAMETERS``/``DISABLE_POST_ACTIONS``: ``false`` or ``0`` enables the
  feature, ``true`` or ``1`` disables it, and so does any other value (as the original, which
  also printed a warning). Unset, the ``ENABLE_*`` variable decides, and the feature is off
  unless it says otherwise (the original enabled it). Setting both ways for one feature with
  opposite meanings is a `ConfigurationError` naming both.
- ``API_ID`` and ``STAGE``, when ``CALLBACK_BASE_URL`` is unset, give the base URL
  ``https://{API_ID}.execute-api.{region}.amazonaws.com/{STAGE}`` (the region from
  ``AWS_REGION``, else ``AWS_DEFAULT_REGION``).
- ``VERBOSE`` turns on debug details in the log records (never tokens, keys or blobs; the
  original printed its payloads, tokens included).
- ``ACCEPT_ORIGINAL_URLS``, new, with ``KEY_ID`` the original stack's KMS key: the callback
  handler also opens the original app's ``2-`` URLs (needs ``sfn-callback-urls[original]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ._codec import (
    DEFAULT_PURPOSE,
    ENV_MODE,
    ENV_PURPOSE,
    Codec,
    Mode,
    mode_from_environment,
    purpose_from_environment,
)
from ._contract import flag
from ._deadline import DEFAULT_BUDGET
from ._http_url import REGION_VARIABLES, default_region, execute_api_problem, execute_api_url
from ._logging import ENV_DEBUG_AWS
from ._theme import PageTheme
from .errors import ConfigurationError
from .keys._environment import (
    ENV_KEY,
    ENV_KEY_ID,
    ENV_PARAMETER,
    ENV_WRAPPED_KEY,
    KEY_VARIABLES,
    keyring_from_environment,
)
from .keys._keyring import Keyring

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENV_ACCEPT_ORIGINAL_URLS",
    "ENV_API_ID",
    "ENV_BASE_URL",
    "ENV_BUDGET",
    "ENV_CHECK_TASK_BEFORE_CONFIRM",
    "ENV_CONFIRM_GET",
    "ENV_DEBUG_AWS",
    "ENV_DISABLE_OUTPUT_PARAMETERS",
    "ENV_DISABLE_POST_ACTIONS",
    "ENV_EAGER_INIT",
    "ENV_ENABLE_OUTPUT_PARAMETERS",
    "ENV_ENABLE_POST_ACTIONS",
    "ENV_KEY",
    "ENV_KEY_ID",
    "ENV_MODE",
    "ENV_PAGE_THEME",
    "ENV_PARAMETER",
    "ENV_PURPOSE",
    "ENV_STAGE",
    "ENV_VERBOSE",
    "ENV_WRAPPED_KEY",
    "KEY_VARIABLES",
    "Settings",
    "flag",
    "keyring_from_environment",
]

#: The base URL callback URLs start with (``/respond`` is appended).
ENV_BASE_URL = "CALLBACK_BASE_URL"
#: Let query parameters fill ``$templates`` in outputs (URLs must opt in too).
ENV_ENABLE_OUTPUT_PARAMETERS = "ENABLE_OUTPUT_PARAMETERS"
#: Allow ``post`` actions (minted and handled).
ENV_ENABLE_POST_ACTIONS = "ENABLE_POST_ACTIONS"
#: Ask for a confirmation before acting on a GET (link scanners in mail systems click links).
ENV_CONFIRM_GET = "CONFIRM_GET"
#: The look and words of the approver's pages: a JSON object of `PageTheme`'s fields.
ENV_PAGE_THEME = "SFN_CALLBACK_URLS_PAGE_THEME"
#: Check that the task still waits (``SendTaskHeartbeat``) before showing a confirm page.
ENV_CHECK_TASK_BEFORE_CONFIRM = "CHECK_TASK_BEFORE_CONFIRM"
#: Also open the original app's ``2-`` URLs, encrypted under ``KEY_ID`` (an in-place upgrade).
ENV_ACCEPT_ORIGINAL_URLS = "ACCEPT_ORIGINAL_URLS"
#: The original app's switch: ``false``/``0`` enables output parameters, anything else disables.
ENV_DISABLE_OUTPUT_PARAMETERS = "DISABLE_OUTPUT_PARAMETERS"
#: The original app's switch: ``false``/``0`` enables POST actions, anything else disables.
ENV_DISABLE_POST_ACTIONS = "DISABLE_POST_ACTIONS"
#: The original app's REST API id: with ``STAGE``, the default base URL.
ENV_API_ID = "API_ID"
#: The original app's API stage: with ``API_ID``, the default base URL.
ENV_STAGE = "STAGE"
#: Debug details in the log records (never tokens, keys or blobs).
ENV_VERBOSE = "VERBOSE"
#: The ready Lambda app does its first invocation's heavy work at init (imports, clients, the
#: KMS key's description), so that a snapshot (SnapStart) or provisioned concurrency keeps it.
ENV_EAGER_INIT = "EAGER_INIT"
#: Seconds a click may spend on AWS calls (the callback handler's ``budget``; 10 by default).
ENV_BUDGET = "SFN_CALLBACK_URLS_BUDGET"

# The original's DISABLE_* parsing: only these two enable; "true"/"1" and anything else disable.
_ORIGINAL_ENABLING = frozenset({"false", "0"})
_ORIGINAL_DISABLING = frozenset({"true", "1"})

_log = logging.getLogger(__name__)


def _switch(environ: Mapping[str, str], enable_name: str, disable_name: str) -> bool:
    """A feature switch that our ``ENABLE_*`` and the original's ``DISABLE_*`` both set.

    Unset ``DISABLE_*`` leaves it to ``ENABLE_*`` (off unless enabled: our secure default);
    set, ``false``/``0`` enables and anything else disables, as in the original app.

    Raises:
        ConfigurationError: both are set and say opposite things.
    """
    enabled = flag(environ, enable_name)
    disable_text = environ.get(disable_name, "").strip()
    if not disable_text:
        return enabled
    value = disable_text.lower()
    disabled = value not in _ORIGINAL_ENABLING
    if disabled and value not in _ORIGINAL_DISABLING:
        _log.warning(
            "%s=%r is neither true/1 nor false/0: the feature is disabled, as in the original app.",
            disable_name,
            disable_text[:20],
        )
    enable_text = environ.get(enable_name, "").strip()
    if enable_text and enabled == disabled:
        raise ConfigurationError(
            f"{enable_name}={enable_text[:20]} and {disable_name}={disable_text[:20]} contradict "
            "each other: set only one of them."
        )
    return not disabled


def _base_url(environ: Mapping[str, str]) -> str | None:
    """``CALLBACK_BASE_URL``, else the original's ``API_ID``/``STAGE`` API URL, else ``None``."""
    explicit = environ.get(ENV_BASE_URL, "").strip()
    if explicit:
        return explicit
    api_id = environ.get(ENV_API_ID, "").strip()
    stage = environ.get(ENV_STAGE, "").strip()
    if not api_id and not stage:
        return None
    if not api_id or not stage:
        raise ConfigurationError(
            f"Set both {ENV_API_ID} and {ENV_STAGE} (the base URL of the original app's API), "
            f"or neither; or set {ENV_BASE_URL}."
        )
    region = default_region(environ)
    if region is None:
        raise ConfigurationError(
            f"{ENV_API_ID} and {ENV_STAGE} need the AWS region: set {REGION_VARIABLES[0]}, "
            f"or set {ENV_BASE_URL} instead."
        )
    problem = execute_api_problem(api_id, stage, region)
    if problem is not None:
        raise ConfigurationError(f"{ENV_API_ID}/{ENV_STAGE}: {problem}.")
    return execute_api_url(api_id, stage, region)


def _original_kms_key_id(environ: Mapping[str, str]) -> str | None:
    """``KEY_ID`` when ``ACCEPT_ORIGINAL_URLS`` is on (checked, with its extra), else ``None``."""
    if not flag(environ, ENV_ACCEPT_ORIGINAL_URLS):
        return None
    key_id = environ.get(ENV_KEY_ID, "").strip()
    if not key_id:
        raise ConfigurationError(
            f"{ENV_ACCEPT_ORIGINAL_URLS} needs {ENV_KEY_ID}: the KMS key of the original app's "
            "stack (its key id, ARN or alias), which its URLs are encrypted under."
        )
    from ._original import require_sdk

    try:
        require_sdk()
    except ConfigurationError as error:
        raise ConfigurationError(f"{ENV_ACCEPT_ORIGINAL_URLS}: {error.message}") from None
    return key_id


def _page_theme(environ: Mapping[str, str]) -> PageTheme | None:
    text = environ.get(ENV_PAGE_THEME, "").strip()
    if not text:
        return None
    try:
        return PageTheme.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'theme'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)[:5]
        )
        raise ConfigurationError(
            f"{ENV_PAGE_THEME} is not a valid page theme: {problems}"
        ) from None


def _budget(environ: Mapping[str, str]) -> float:
    text = environ.get(ENV_BUDGET, "").strip()
    if not text:
        return DEFAULT_BUDGET
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ConfigurationError(f"{ENV_BUDGET} must be a positive number of seconds.")
    return seconds


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
        original_kms_key_id: the KMS key whose original ``2-`` URLs the callback handler opens
            too (``KEY_ID`` with ``ACCEPT_ORIGINAL_URLS``), or ``None``.
        verbose: debug details in the log records (``VERBOSE``).
        page_theme: the look and words of the approver's pages (``SFN_CALLBACK_URLS_PAGE_THEME``),
            or ``None`` for the built-in one.
        check_task_before_confirm: check that the task still waits before showing a confirm
            page (``CHECK_TASK_BEFORE_CONFIRM``).
        budget: seconds a click may spend on AWS calls (``SFN_CALLBACK_URLS_BUDGET``).
    """

    keyring: Keyring
    purpose: str = DEFAULT_PURPOSE
    mode: Mode = Mode.ENCRYPTED
    base_url: str | None = None
    enable_output_parameters: bool = False
    enable_post_actions: bool = False
    confirm_get: bool = False
    original_kms_key_id: str | None = None
    verbose: bool = False
    page_theme: PageTheme | None = None
    check_task_before_confirm: bool = False
    budget: float = DEFAULT_BUDGET

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
        original_kms_key_id = _original_kms_key_id(environ)
        return cls(
            keyring=keyring_from_environment(environ, client=kms_client, session=session),
            purpose=purpose_from_environment(environ),
            mode=mode_from_environment(environ),
            base_url=_base_url(environ),
            enable_output_parameters=_switch(
                environ, ENV_ENABLE_OUTPUT_PARAMETERS, ENV_DISABLE_OUTPUT_PARAMETERS
            ),
            enable_post_actions=_switch(environ, ENV_ENABLE_POST_ACTIONS, ENV_DISABLE_POST_ACTIONS),
            confirm_get=flag(environ, ENV_CONFIRM_GET),
            original_kms_key_id=original_kms_key_id,
            verbose=flag(environ, ENV_VERBOSE),
            page_theme=_page_theme(environ),
            check_task_before_confirm=flag(environ, ENV_CHECK_TASK_BEFORE_CONFIRM),
            budget=_budget(environ),
        )

    def codec(self) -> Codec:
        """A codec with these keys, mode and purpose."""
        return Codec(self.keyring, mode=self.mode, purpose=self.purpose)
