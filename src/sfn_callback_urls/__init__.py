"""Stateless, encrypted or signed callback URLs that complete AWS Step Functions tasks.

Mint URLs anywhere::

    codec = Codec(LocalKey.from_string(os.environ["SFN_CALLBACK_URLS_KEY"]))
    minter = Minter(codec, base_url="https://example.com/callbacks")
    urls = minter.mint(token, [SuccessAction(name="approve", output={"ok": True})],
                       expires_in=timedelta(days=7))

and open them in any web handler with `CallbackHandler` (or just verify them with
`open_callback()`).
"""

from __future__ import annotations

from typing import Any

from .claims import Claims
from .codec import DEFAULT_LEEWAY, DEFAULT_PURPOSE, Codec, Mode
from .complete import Completion
from .errors import (
    ActionMismatched,
    ConfigurationError,
    DuplicateActionName,
    ExpiredPayload,
    InvalidDate,
    InvalidJsonPath,
    InvalidJsonSchema,
    InvalidPayload,
    InvalidRequest,
    KeyUnavailable,
    PayloadError,
    PayloadTooLarge,
    RequestError,
    ServerError,
    SfnCallbackUrlsError,
    StepFunctionsError,
    StepFunctionsUnavailable,
    TaskAlreadyCompleted,
)
from .handler import CallbackHandler, CallbackRequest, CallbackResponse
from .keys import (
    DataKey,
    KeyBackend,
    Keyring,
    KmsDerivedKey,
    KmsEnvelopeKey,
    LocalKey,
    keyring_from_environment,
    load_wrapped_keyring,
    wrap_keyring,
)
from .models import (
    Action,
    CreateUrlsRequest,
    CreateUrlsResponse,
    FailureAction,
    HeartbeatAction,
    PostAction,
    ResponseSpec,
    SuccessAction,
    parse_action,
    parse_create_urls_request,
)
from .urls import CallbackQuery, Minter, OpenedCallback, callback_url, open_callback

__all__ = [
    "DEFAULT_LEEWAY",
    "DEFAULT_PURPOSE",
    "Action",
    "ActionMismatched",
    "CallbackHandler",
    "CallbackQuery",
    "CallbackRequest",
    "CallbackResponse",
    "Claims",
    "Codec",
    "Completion",
    "ConfigurationError",
    "CreateUrlsRequest",
    "CreateUrlsResponse",
    "DataKey",
    "DuplicateActionName",
    "ExpiredPayload",
    "FailureAction",
    "HeartbeatAction",
    "InvalidDate",
    "InvalidJsonPath",
    "InvalidJsonSchema",
    "InvalidPayload",
    "InvalidRequest",
    "KeyBackend",
    "KeyUnavailable",
    "Keyring",
    "KmsDerivedKey",
    "KmsEnvelopeKey",
    "LocalKey",
    "Minter",
    "Mode",
    "OpenedCallback",
    "PayloadError",
    "PayloadTooLarge",
    "PostAction",
    "RequestError",
    "ResponseSpec",
    "ServerError",
    "SfnCallbackUrlsError",
    "StepFunctionsError",
    "StepFunctionsUnavailable",
    "SuccessAction",
    "TaskAlreadyCompleted",
    "callback_url",
    "keyring_from_environment",
    "load_wrapped_keyring",
    "open_callback",
    "parse_action",
    "parse_create_urls_request",
    "wrap_keyring",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("sfn-callback-urls")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
