"""The original app, ready to deploy: two Lambda handlers with its JSON contract.

- ``sfn_callback_urls.aws_lambda.create_urls_handler``: invoked directly with a create-URLs
  request (``{"token", "actions", ...}``), it returns ``{"transaction_id", "urls",
  "expiration"?}`` or ``{"error", "message"}``, as the original's function did. Behind API
  Gateway (``POST /urls``) it answers 200 with the same JSON, or the error JSON with a 4xx status
  for bad input.
- ``sfn_callback_urls.aws_lambda.process_callback_handler``: ``GET``/``POST .../respond`` from API
  Gateway (REST or HTTP API), a function URL or an ALB, through
  `sfn_callback_urls.adapters.aws_lambda` and a
  `CallbackHandler`.

Configuration comes from the environment, read on the first invocation and kept for the life of
the process (`reset_app()` forgets it, for tests). A configuration error is answered, not
raised: ``{"error": "ConfigurationError", "message": "... set SFN_CALLBACK_URLS_KEY ..."}`` (HTTP
500 behind API Gateway), and read again on the next invocation.

Environment variables (``docs/deploy.md`` has the full story):

- the key, one of: ``KEY_ID`` (a KMS key id, ARN or alias: envelope encryption),
  ``SFN_CALLBACK_URLS_KEY`` (a local keyring), ``SFN_CALLBACK_URLS_WRAPPED_KEY`` (a KMS-wrapped
  keyring) or ``SFN_CALLBACK_URLS_PARAMETER`` (an SSM parameter holding either). With ``KEY_ID``
  and a keyring both set, the KMS key mints and the keyring's keys still open their URLs;
- ``SFN_CALLBACK_URLS_PURPOSE``: the purpose blobs are bound to (default ``sfn-callback-urls``);
- ``CALLBACK_BASE_URL``: where ``/respond`` is served; by default derived from the API Gateway
  event (``https://{domainName}/{stage}``); a request's own ``base_url`` wins, as in the original;
- ``ENABLE_OUTPUT_PARAMETERS``, ``ENABLE_POST_ACTIONS``, ``CONFIRM_GET``: ``true``/``1``/``yes``
  (any case) to enable; anything else, or unset, disables;
- ``SFN_CALLBACK_URLS_DEBUG_AWS``: ``true`` to let botocore log at DEBUG; by default its loggers
  are kept at INFO or above (`quiet_aws_loggers()`), because at DEBUG they log task tokens and
  KMS plaintext keys.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from .adapters import error_response, is_callback_path, not_found_response
from .adapters.aws_lambda import (
    EventSource,
    UnsupportedEvent,
    detect_event_source,
    event_to_request,
    is_http_event,
    request_path,
    response_to_event,
)
from .codec import DEFAULT_PURPOSE, Codec
from .errors import (
    ConfigurationError,
    MethodNotAllowed,
    ParametersDisabled,
    PostActionsDisabled,
    SfnCallbackUrlsError,
    UnsupportedMediaType,
)
from .handler import CallbackHandler, CallbackRequest, CallbackResponse
from .keys import KeyBackend, Keyring
from .keys.kms import ENV_KEY, ENV_PARAMETER, ENV_WRAPPED_KEY, KmsEnvelopeKey
from .keys.kms import keyring_from_environment as _keyring_from_environment
from .models import CreateUrlsResponse, parse_create_urls_request
from .render import render_json
from .urls import Minter

__all__ = [
    "ENV_BASE_URL",
    "ENV_CONFIRM_GET",
    "ENV_DEBUG_AWS",
    "ENV_ENABLE_OUTPUT_PARAMETERS",
    "ENV_ENABLE_POST_ACTIONS",
    "ENV_KEY_ID",
    "ENV_PURPOSE",
    "App",
    "Settings",
    "create_urls_handler",
    "get_app",
    "process_callback_handler",
    "quiet_aws_loggers",
    "reset_app",
]

logger = logging.getLogger(__name__)

#: A KMS key id, ARN or alias: blobs are sealed with KMS envelope encryption.
ENV_KEY_ID = "KEY_ID"
#: The purpose every blob is bound to; give each deployment its own.
ENV_PURPOSE = "SFN_CALLBACK_URLS_PURPOSE"
#: The base URL callback URLs start with (``/respond`` is appended).
ENV_BASE_URL = "CALLBACK_BASE_URL"
#: Let query parameters fill ``$templates`` in outputs (URLs must opt in too).
ENV_ENABLE_OUTPUT_PARAMETERS = "ENABLE_OUTPUT_PARAMETERS"
#: Allow ``post`` actions (minted and handled).
ENV_ENABLE_POST_ACTIONS = "ENABLE_POST_ACTIONS"
#: Ask for a confirmation before acting on a GET (link scanners in mail systems click links).
ENV_CONFIRM_GET = "CONFIRM_GET"

#: ``true`` lets the AWS SDK's loggers log at DEBUG (they then log task tokens and key material).
ENV_DEBUG_AWS = "SFN_CALLBACK_URLS_DEBUG_AWS"

_TRUTHY = frozenset({"true", "1", "yes"})
_AWS_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
_URLS_PATH = "/urls"


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in _TRUTHY


def quiet_aws_loggers(environ: Mapping[str, str] = os.environ) -> None:
    """Keep the AWS SDK's loggers (botocore, boto3, urllib3, s3transfer) at INFO or above.

    At DEBUG, botocore logs every request and response body: the task token of each
    ``SendTask*`` call, the plaintext data keys of KMS ``GenerateDataKey``/``Decrypt``, the MACs
    that derived keys are, and decrypted keyrings. A root logger at DEBUG (a common Lambda
    setting) would send them all to CloudWatch. The ready handlers and ``serve`` call this on
    every invocation; call it in your own handler if you log at DEBUG. Setting
    ``SFN_CALLBACK_URLS_DEBUG_AWS=true`` is the explicit opt-out: the levels are left alone.
    """
    if _flag(environ, ENV_DEBUG_AWS):
        return
    for name in _AWS_LOGGERS:
        aws_logger = logging.getLogger(name)
        if aws_logger.getEffectiveLevel() < logging.INFO:
            aws_logger.setLevel(logging.INFO)


def _keyring(environ: Mapping[str, str]) -> Keyring:
    kms_key_id = environ.get(ENV_KEY_ID, "").strip()
    has_keyring = any(environ.get(name) for name in (ENV_KEY, ENV_WRAPPED_KEY, ENV_PARAMETER))
    if not kms_key_id and not has_keyring:
        raise ConfigurationError(
            f"No key configured: set {ENV_KEY_ID} (a KMS key id, ARN or alias) or {ENV_KEY} "
            f"(a local keyring from `sfn-callback-urls keygen`); {ENV_WRAPPED_KEY} and "
            f"{ENV_PARAMETER} work too."
        )
    keys: list[KeyBackend] = [KmsEnvelopeKey(kms_key_id)] if kms_key_id else []
    if has_keyring:
        keys.extend(_keyring_from_environment(environ))
    return Keyring(keys)


@dataclass(frozen=True)
class Settings:
    """The app's configuration.

    Attributes:
        keyring: the keys; the first mints.
        purpose: the purpose blobs are bound to.
        base_url: the default base URL of callback URLs, if configured.
        enable_output_parameters: allow output parameters (minting and handling).
        enable_post_actions: allow ``post`` actions (minting and handling).
        confirm_get: ask for a confirmation before acting on a GET.
    """

    keyring: Keyring
    purpose: str = DEFAULT_PURPOSE
    base_url: str | None = None
    enable_output_parameters: bool = False
    enable_post_actions: bool = False
    confirm_get: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from environment variables (see the module's documentation).

        Raises:
            ConfigurationError: no key, or an invalid one; the message names the variable.
            KeyUnavailable: KMS or SSM failed while loading a wrapped keyring.
        """
        return cls(
            keyring=_keyring(environ),
            purpose=environ.get(ENV_PURPOSE, "").strip() or DEFAULT_PURPOSE,
            base_url=environ.get(ENV_BASE_URL, "").strip() or None,
            enable_output_parameters=_flag(environ, ENV_ENABLE_OUTPUT_PARAMETERS),
            enable_post_actions=_flag(environ, ENV_ENABLE_POST_ACTIONS),
            confirm_get=_flag(environ, ENV_CONFIRM_GET),
        )


class App:
    """The configured app: one codec, a minter and (built on first use) a callback handler.

    Args:
        settings: the configuration.
        stepfunctions_client: a boto3 Step Functions client for the callback handler (by default
            the handler makes its own).
    """

    def __init__(self, settings: Settings, *, stepfunctions_client: Any = None) -> None:
        self.settings = settings
        """The configuration read from the environment."""
        self.codec = Codec(settings.keyring, purpose=settings.purpose)
        """Seals and opens blobs with the configured keys and purpose."""
        try:
            self.minter = Minter(self.codec, base_url=settings.base_url)
            """Mints the create-URLs responses."""
        except ConfigurationError as error:
            raise ConfigurationError(f"{ENV_BASE_URL}: {error.message}") from None
        self._stepfunctions_client = stepfunctions_client
        self._callback_handler: CallbackHandler | None = None

    @property
    def callback_handler(self) -> CallbackHandler:
        """The handler of callback requests, configured from the settings."""
        if self._callback_handler is None:
            self._callback_handler = CallbackHandler(
                self.codec,
                stepfunctions_client=self._stepfunctions_client,
                enable_output_parameters=self.settings.enable_output_parameters,
                enable_post_actions=self.settings.enable_post_actions,
                confirm_get=self.settings.confirm_get,
            )
        return self._callback_handler

    def create_urls(
        self,
        data: Mapping[str, Any] | str | bytes,
        *,
        default_base_url: str | None = None,
        now: datetime | None = None,
    ) -> CreateUrlsResponse:
        """Mint the URLs of a create-URLs request (a mapping or JSON).

        The base URL is the request's ``base_url``, else ``CALLBACK_BASE_URL``, else
        ``default_base_url`` (derived from the API Gateway event).

        Raises:
            InvalidRequest: the request is invalid (or a subclass naming what is wrong).
            PostActionsDisabled: it has a ``post`` action and ``ENABLE_POST_ACTIONS`` is off.
            ParametersDisabled: it enables output parameters and ``ENABLE_OUTPUT_PARAMETERS``
                is off.
            ConfigurationError: no base URL is known.
        """
        request = parse_create_urls_request(data, now=now)
        if not self.settings.enable_post_actions and any(
            action.type == "post" for action in request.actions
        ):
            raise PostActionsDisabled(
                f"POST actions are disabled on this deployment ({ENV_ENABLE_POST_ACTIONS})."
            )
        if (
            request.enable_output_parameters
            and not self.settings.enable_output_parameters
            and any(action.type != "post" for action in request.actions)
        ):
            raise ParametersDisabled(
                "Output parameters are disabled on this deployment "
                f"({ENV_ENABLE_OUTPUT_PARAMETERS})."
            )
        minter = self.minter
        if request.base_url is None and minter.base_url is None:
            if default_base_url is None:
                raise ConfigurationError(
                    f"No base URL: set {ENV_BASE_URL} on the function, "
                    "or give base_url in the request."
                )
            minter = Minter(self.codec, base_url=default_base_url)
        return minter.create_urls(request, now=now)


_app: App | None = None
_app_lock = threading.Lock()


def get_app() -> App:
    """The app configured from ``os.environ``, built once per process.

    A failure is not kept: the next call reads the environment again.

    Raises:
        ConfigurationError, KeyUnavailable: see `Settings.from_environment()`.
    """
    global _app
    app = _app
    if app is None:
        with _app_lock:
            if _app is None:
                _app = App(Settings.from_environment(os.environ))
            app = _app
    return app


def reset_app() -> None:
    """Forget the configured app (tests change the environment between cases)."""
    global _app
    with _app_lock:
        _app = None


def _log_error(error: SfnCallbackUrlsError) -> None:
    level = logging.WARNING if error.status < HTTPStatus.INTERNAL_SERVER_ERROR else logging.ERROR
    logger.log(level, "%s: %s", error.code, error.message)


def _internal_error() -> SfnCallbackUrlsError:
    logger.exception("Unexpected error")
    return SfnCallbackUrlsError()  # "InternalError", with a message that reveals nothing


# --- creating URLs ---------------------------------------------------------------------------


def _base_url_from_event(event: Mapping[str, Any]) -> str | None:
    """``https://{domainName}`` plus the path before ``/urls`` (the stage, or a base path)."""
    context = event.get("requestContext") or {}
    domain = context.get("domainName")
    if not domain:
        return None
    if detect_event_source(event) is EventSource.API_GATEWAY_REST:
        path = str(context.get("path") or "")
    else:
        path = request_path(event)
    if path.endswith(_URLS_PATH):
        prefix = path[: -len(_URLS_PATH)]
    else:
        stage = str(context.get("stage") or "")
        prefix = "" if stage in ("", "$default") else f"/{stage}"
    return f"https://{domain}{prefix}"


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _json_answer(status: int, body: Mapping[str, Any]) -> CallbackResponse:
    return render_json(status, body)


def _create_urls_over_http(event: Mapping[str, Any]) -> CallbackResponse:
    try:
        request: CallbackRequest = event_to_request(event)
    except SfnCallbackUrlsError as refused:
        _log_error(refused)
        return error_response(refused)
    if request.method != "POST":
        not_post = MethodNotAllowed(allowed=("POST",))
        return render_json(not_post.status, not_post.to_dict(), headers={"Allow": "POST"})
    content_type = request.headers.get("content-type", "")
    if content_type and not _is_json(content_type):
        return error_response(UnsupportedMediaType())
    error: SfnCallbackUrlsError
    try:
        response = get_app().create_urls(request.body, default_base_url=_base_url_from_event(event))
    except SfnCallbackUrlsError as exc:
        error = exc
    except Exception:  # an API answer, never a stack trace
        error = _internal_error()
    else:
        return _json_answer(HTTPStatus.OK, response.model_dump(mode="json", exclude_none=True))
    _log_error(error)
    return error_response(error)


def create_urls_handler(event: Any, context: Any) -> dict[str, Any]:
    """The create-URLs Lambda handler: direct invocation, or API Gateway ``POST /urls``.

    Directly invoked, the event is the request and the result is the response JSON, or
    ``{"error", "message"}`` (returned, not raised, as the original did). Behind API Gateway,
    the result is the proxy answer: 200 with the response JSON, the error JSON otherwise.
    """
    quiet_aws_loggers()
    if is_http_event(event):
        return response_to_event(_create_urls_over_http(event), event)
    error: SfnCallbackUrlsError
    try:
        response = get_app().create_urls(event)
    except SfnCallbackUrlsError as exc:
        error = exc
    except Exception:  # the contract's error JSON, never a stack trace
        error = _internal_error()
    else:
        return response.model_dump(mode="json", exclude_none=True)
    _log_error(error)
    return error.to_dict()


# --- handling callbacks ----------------------------------------------------------------------


def _handle_callback(event: Mapping[str, Any]) -> CallbackResponse:
    path = request_path(event)
    if path and not is_callback_path(path):
        return not_found_response()
    try:
        handler = get_app().callback_handler
        request = event_to_request(event)
    except SfnCallbackUrlsError as error:
        _log_error(error)
        return error_response(error)
    try:
        return handler.handle(request)
    except Exception:  # handle() never raises; this keeps the answer well-formed if it does
        return error_response(_internal_error())


def process_callback_handler(event: Any, context: Any) -> dict[str, Any]:
    """The callback Lambda handler: ``GET``/``POST .../respond`` from any HTTP event source.

    Any other path answers 404. An event that is not an HTTP event gets
    ``{"error": "UnsupportedEvent", "message"}``.
    """
    quiet_aws_loggers()
    try:
        detect_event_source(event)
    except UnsupportedEvent as error:
        _log_error(error)
        return error.to_dict()
    return response_to_event(_handle_callback(event), event)
