"""The original app, ready to deploy: two Lambda handlers with its JSON contract.

- ``sfn_callback_urls.aws_lambda.create_urls_handler``: invoked directly with a create-URLs
  request (``{"token", "actions", ...}``), it returns ``{"transaction_id", "urls",
  "expiration"?}`` or ``{"transaction_id", "error", "message"}``, as the original's function
  did. Behind API Gateway (``POST /urls``) it answers 200 with the same JSON, or the error JSON
  with a 4xx status for bad input. Every error about the request carries the transaction id
  minted for it, so that the answer and the log line can be matched.
- ``sfn_callback_urls.aws_lambda.process_callback_handler``: ``GET``/``POST .../respond`` from API
  Gateway (REST or HTTP API), a function URL or an ALB, through the adapters of
  `sfn_callback_urls.adapters` and a `CallbackHandler`.

Configuration comes from the environment, read on the first invocation and kept for the life of
the process (`reset_app()` forgets it, for tests). A configuration error is answered, not
raised: ``{"error": "ConfigurationError", "message": "... set SFN_CALLBACK_URLS_KEY ..."}`` (HTTP
500 behind API Gateway), and read again on the next invocation.

Environment variables (``docs/deploy.md`` has the full story): the key (``KEY_ID`` for a KMS
key, or ``SFN_CALLBACK_URLS_KEY`` for a local keyring, ...), ``SFN_CALLBACK_URLS_PURPOSE``,
``SFN_CALLBACK_URLS_MODE``, ``CALLBACK_BASE_URL`` (or the original's ``API_ID`` and ``STAGE``;
by default derived from the API Gateway event; a request's own ``base_url`` wins, as in the
original), the switches ``ENABLE_OUTPUT_PARAMETERS``, ``ENABLE_POST_ACTIONS`` (or the
original's ``DISABLE_*``), ``CONFIRM_GET`` and ``CHECK_TASK_BEFORE_CONFIRM``,
``SFN_CALLBACK_URLS_PAGE_THEME`` (the approver's pages' look and words, as JSON),
``ACCEPT_ORIGINAL_URLS`` (open the original app's ``2-`` URLs under ``KEY_ID``),
``SFN_CALLBACK_URLS_BUDGET`` (seconds a click may spend on AWS calls, 10 by default, and
never past the function's remaining time less a second) and
``VERBOSE`` (debug details in the log). The same
variables configure ``sfn-callback-urls serve``, ``inspect`` and ``mint``.

Both handlers keep the AWS SDK's loggers at INFO or above (`quiet_aws_loggers()`): at DEBUG
they log task tokens and KMS plaintext keys. ``SFN_CALLBACK_URLS_DEBUG_AWS=true`` opts out.

``EAGER_INIT=true`` (the SAM template sets it) moves the first invocation's heavy work to the
import, while Lambda initialises the function: the configuration, the imports, the AWS clients
(one botocore session) and ``DescribeKey`` of the KMS key, for the side the function's handler
(Lambda's ``_HANDLER``) serves, and a rehearsal of a mint and a click under a throwaway local
key (`App.prepare()`). A snapshot (SnapStart) or provisioned concurrency then keeps it; before a
snapshot the clients' connections are closed (the runtime's ``snapshot_restore_py`` hook), so
that a restored environment opens fresh ones. No data key is fetched, no task touched and no
record logged at init. A failure there is logged, and the first invocation tries again and
answers it as usual.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from ._claims import new_transaction_id
from ._codec import Codec
from ._config import (
    ENV_API_ID,
    ENV_BASE_URL,
    ENV_EAGER_INIT,
    ENV_STAGE,
    Settings,
    flag,
)
from ._features import Features
from ._handler import CallbackHandler, CallbackRequest, CallbackResponse
from ._http_headers import header
from ._http_url import default_region, execute_api_problem, execute_api_url, http_url_problem
from ._logging import quiet_aws_loggers
from ._models import CreateUrlsResponse
from ._outcome import is_json_media_type
from ._render import JSON, render_error, render_json
from ._response_writer import response_json
from ._time import format_utc
from ._urls import Minter, no_base_url
from ._validation import parse_create_urls_request
from .adapters._common import is_callback_path, not_found_response
from .adapters._lambda_events import (
    EventSource,
    answer_to,
    detect_event_source,
    event_to_request,
    is_http_event,
    path_of,
    request_of,
    request_path,
    response_to_event,
)
from .errors import (
    ConfigurationError,
    InvalidJson,
    InvalidRequest,
    MethodNotAllowed,
    SfnCallbackUrlsError,
    UnsupportedEvent,
    UnsupportedMediaType,
)
from .keys._aws import KmsKey, close_connections
from .keys._local import LocalKey

__all__ = [
    "App",
    "create_urls_handler",
    "get_app",
    "process_callback_handler",
    "reset_app",
]

#: The app's one logger: its mint and callback records (fields as in `CallbackHandler`), and its
#: errors. Set to INFO on the first invocation unless configured: the audit trail.
logger = logging.getLogger(__name__)

# VERBOSE sets the app's logger to DEBUG; reset_app() puts the level back.

_URLS_PATH = "/urls"


class _NoStepFunctions:
    """The Step Functions stand-in of `App.prepare()`'s rehearsal: answers, sends nothing."""

    def send_task_success(self, **_: Any) -> dict[str, Any]:
        return {}

    def send_task_failure(self, **_: Any) -> dict[str, Any]:
        return {}

    def send_task_heartbeat(self, **_: Any) -> dict[str, Any]:
        return {}


# What App.prepare() rehearses with: a click on each action answers the common outcomes.
_SAMPLE_REQUEST = {
    "token": "sample",
    "actions": [
        {"name": "approve", "type": "success", "output": {}},
        {"name": "reject", "type": "failure", "error": "rejected", "cause": "sample"},
    ],
}


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
        self.codec: Codec = settings.codec()
        """Seals and opens blobs with the configured keys and purpose."""
        try:
            self.minter = Minter(self.codec, base_url=settings.base_url, logger=logger)
            """Mints the create-URLs responses."""
        except ConfigurationError as error:
            raise ConfigurationError(f"{ENV_BASE_URL}: {error.message}") from None
        self.features = Features.of(settings)
        """The switches: what is minted and served."""
        self._stepfunctions_client = stepfunctions_client
        self._callback_handler: CallbackHandler | None = None

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, *, stepfunctions_client: Any = None
    ) -> App:
        """The app the environment configures (the variables of ``docs/deploy.md``).

        Raises:
            ConfigurationError, KeyUnavailable: see `Codec.from_environment()`.
        """
        return cls(Settings.from_environment(environ), stepfunctions_client=stepfunctions_client)

    @property
    def callback_handler(self) -> CallbackHandler:
        """The handler of callback requests, configured from the settings."""
        if self._callback_handler is None:
            self._callback_handler = self.features.callback_handler(
                self.codec, stepfunctions_client=self._stepfunctions_client, logger=logger
            )
        return self._callback_handler

    def prepare(self, *, callback: bool = True) -> None:
        """Do the first invocation's heavy work now (``EAGER_INIT``): a snapshot then keeps it.

        Every KMS key of the keyring gets its client and is described (``DescribeKey``). Then a
        rehearsal, under a throwaway local key and a logger that is off, so that the first real
        request finds the models built and the code paths warm: it mints the URLs of a sample
        request and, with ``callback``, builds the callback handler with its Step Functions
        client (and the original URLs' reader, when configured) and answers a click on each of
        those URLs, with a Step Functions stand-in that sends nothing. No data key is fetched,
        no task is touched, no record is logged.

        Raises:
            KeyUnavailable: KMS failed (``DescribeKey``).
        """
        for key in self.settings.keyring:
            if isinstance(key, KmsKey):
                key.prepare()
        codec = Codec(LocalKey.generate(), mode=self.settings.mode, purpose=self.settings.purpose)
        quiet = logging.Logger(f"{__name__}.prepare", logging.CRITICAL + 1)
        minter = Minter(codec, base_url="https://prepare.invalid", logger=quiet)
        response = minter.create_urls(parse_create_urls_request(_SAMPLE_REQUEST))
        response_json(response)
        if callback:
            self.callback_handler.prepare()
            rehearsal = CallbackHandler(
                codec, stepfunctions_client=_NoStepFunctions(), logger=quiet
            )
            for url in response.urls.values():
                query = url.partition("?")[2]
                rehearsal.handle(CallbackRequest("GET", query, {"accept": "text/html"}))

    def create_urls(
        self,
        data: Mapping[str, Any] | str | bytes,
        *,
        default_base_url: str | None = None,
        now: datetime | None = None,
        transaction_id: str | None = None,
    ) -> CreateUrlsResponse:
        """Mint the URLs of a create-URLs request (a mapping or JSON).

        The base URL is the request's ``base_url``, else ``CALLBACK_BASE_URL`` (or the one
        ``API_ID``/``STAGE`` give), else ``default_base_url`` (derived from the API Gateway
        event). ``transaction_id`` is the id to mint under (default: a fresh one).

        Raises:
            InvalidJson: the request is not JSON, or JSON that is not a valid request (wrong
                types, missing or unknown fields): the original app's code for both.
            InvalidRequest: a subclass naming what is wrong (``DuplicateActionName``,
                ``InvalidDate``, ``InvalidJsonPath``, ``InvalidJsonSchema``).
            PostActionsDisabled: it has a ``post`` action and ``ENABLE_POST_ACTIONS`` is off.
            ParametersDisabled: it enables output parameters and ``ENABLE_OUTPUT_PARAMETERS``
                is off.
            ConfigurationError: no base URL is known.
        """
        try:
            request = parse_create_urls_request(data, now=now)
        except InvalidRequest as error:
            if type(error) is not InvalidRequest:  # a code of its own, as in the original
                raise
            # The original app validated requests with a JSON Schema and called every
            # failure of it InvalidJSON; callers match on that code.
            raise InvalidJson(error.message, errors=error.errors) from None
        self.features.check_mint(
            request.actions, output_parameters=request.enable_output_parameters
        )
        minter = self.minter
        if request.base_url is None and minter.base_url is None:
            if default_base_url is None:
                raise no_base_url(
                    f"set {ENV_BASE_URL} (or {ENV_API_ID} and {ENV_STAGE}) on the function"
                )
            minter = Minter(self.codec, base_url=default_base_url, logger=logger)
        response = minter.create_urls(request, now=now, transaction_id=transaction_id)
        if logger.isEnabledFor(logging.DEBUG):  # VERBOSE: what was minted, never the token
            details = {
                "event": "mint_details",
                "transaction_id": response.transaction_id,
                "expiration": None
                if request.expiration is None
                else format_utc(request.expiration),
                "enable_output_parameters": request.enable_output_parameters,
                "base_url": next(iter(response.urls.values())).split("/respond?", 1)[0],
            }
            logger.debug("create-URLs details %s", response.transaction_id, extra=details)
        return response


_app: App | None = None
_app_lock = threading.Lock()
_level_before_verbose: int | None = None


def get_app() -> App:
    """The app configured from ``os.environ``, built once per process.

    A failure is not kept: the next call reads the environment again.

    Raises:
        ConfigurationError, KeyUnavailable: see `Settings.from_environment()`.
    """
    global _app, _level_before_verbose
    app = _app
    if app is None:
        with _app_lock:
            if _app is None:
                _keep_the_audit_trail()
                _app = App.from_environment(os.environ)
                if _app.settings.verbose and _level_before_verbose is None:
                    _level_before_verbose = logger.level
                    logger.setLevel(logging.DEBUG)
            app = _app
    return app


def _keep_the_audit_trail() -> None:
    """Let the app's mint and callback records (INFO) through, whatever the root logger's level.

    Lambda's root logger is at WARNING unless the function's log level says otherwise, which
    would drop the record of every approval. The app logs to this module's logger, so only it
    is set (and only when nobody set it): the library's own loggers keep their configuration.
    """
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def reset_app(app: App | None = None) -> None:
    """Forget the configured app, so the next invocation reads the environment again.

    Args:
        app: use this app instead from now on (e.g. `App.from_environment()` with a Step
            Functions client of your tests).
    """
    global _app, _level_before_verbose
    with _app_lock:
        _app = app
        if _level_before_verbose is not None:
            logger.setLevel(_level_before_verbose)
            _level_before_verbose = None


def _log_error(error: SfnCallbackUrlsError, transaction_id: str | None = None) -> None:
    level = logging.WARNING if error.status < HTTPStatus.INTERNAL_SERVER_ERROR else logging.ERROR
    if transaction_id is None:
        logger.log(level, "%s: %s", error.code, error.message)
    else:
        logger.log(level, "%s: %s (transaction %s)", error.code, error.message, transaction_id)


def _configured_app() -> App | SfnCallbackUrlsError:
    """`get_app()`, or the (logged) error that configuring it raised."""
    try:
        return get_app()
    except SfnCallbackUrlsError as error:
        _log_error(error)
        return error
    except Exception:  # never a stack trace
        return _internal_error()


def _error_body(error: SfnCallbackUrlsError, transaction_id: str) -> dict[str, str]:
    """The error JSON with the request's transaction id first, as the original's errors had."""
    return {"transaction_id": transaction_id, **error.to_dict()}


def _internal_error() -> SfnCallbackUrlsError:
    logger.exception("Unexpected error")
    return SfnCallbackUrlsError()  # "InternalError", with a message that reveals nothing


# --- creating URLs ---------------------------------------------------------------------------


def _https_base(host: Any, prefix: str) -> str | None:
    """``https://{host}{prefix}`` if ``host`` is a plain host name (and port), else ``None``."""
    if not isinstance(host, str) or not host or "@" in host:
        return None
    url = f"https://{host}{prefix}"
    try:
        if urlsplit(url).netloc != host:  # a '/', '?' or '#' in it: not a host
            return None
    except ValueError:
        return None
    return url if http_url_problem(url, allow_query=False) is None else None


def _base_url_from_event(event: Mapping[str, Any]) -> str | None:
    """Where the API that delivered ``event`` serves ``/respond``, or ``None`` if unknown.

    ``https://{domainName}`` plus the path before ``/urls`` (the stage, or a base path). An
    event without ``domainName`` (the original app's own sample events) falls back to the
    API's address from ``apiId``, ``stage`` and the function's region, as the original built
    it, then to the ``Host`` header.
    """
    context = event.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    if detect_event_source(event) is EventSource.API_GATEWAY_REST:
        path = str(context.get("path") or "")
    else:
        path = request_path(event)
    stage = context.get("stage")
    if path.endswith(_URLS_PATH):
        prefix = path[: -len(_URLS_PATH)]
    else:
        prefix = "" if stage in (None, "", "$default") else f"/{stage}"
    base = _https_base(context.get("domainName"), prefix)
    if base is not None:
        return base
    api_id, region = context.get("apiId"), default_region()
    if (
        isinstance(api_id, str)
        and isinstance(stage, str)
        and region is not None
        and execute_api_problem(api_id, stage, region) is None
    ):
        return execute_api_url(api_id, stage, region)
    headers = event.get("headers")
    if isinstance(headers, Mapping):
        return _https_base(header(headers, "host"), prefix)
    return None


def _create_urls_over_http(event: Mapping[str, Any]) -> CallbackResponse:
    try:
        request: CallbackRequest = event_to_request(event)
    except SfnCallbackUrlsError as refused:
        _log_error(refused)
        return render_error(refused, JSON)
    if request.method != "POST":
        return render_error(MethodNotAllowed(allowed=("POST",)), JSON)
    content_type = request.headers.get("content-type", "")
    if content_type and not is_json_media_type(content_type):
        return render_error(UnsupportedMediaType(), JSON)
    app = _configured_app()
    if isinstance(app, SfnCallbackUrlsError):  # the deployment's error, not the request's
        return render_error(app, JSON)
    transaction_id = new_transaction_id()
    error: SfnCallbackUrlsError
    try:
        response = app.create_urls(
            request.body,
            default_base_url=_base_url_from_event(event),
            transaction_id=transaction_id,
        )
    except SfnCallbackUrlsError as exc:
        error = exc
    except Exception:  # an API answer, never a stack trace
        error = _internal_error()
    else:
        return render_json(HTTPStatus.OK, response_json(response))
    _log_error(error, transaction_id)
    return render_json(error.status, _error_body(error, transaction_id))


def create_urls_handler(event: Any, context: Any) -> dict[str, Any]:
    """The create-URLs Lambda handler: direct invocation, or API Gateway ``POST /urls``.

    Directly invoked, the event is the request and the result is the response JSON, or
    ``{"transaction_id", "error", "message"}`` (returned, not raised, as the original did).
    Behind API Gateway, the result is the proxy answer: 200 with the response JSON, the error
    JSON otherwise. A configuration error (no key, say) is ``{"error", "message"}``: it is the
    deployment's, not the request's.
    """
    quiet_aws_loggers()
    if is_http_event(event):
        return response_to_event(_create_urls_over_http(event), event)
    app = _configured_app()
    if isinstance(app, SfnCallbackUrlsError):  # the deployment's error, not the request's
        return app.to_dict()
    transaction_id = new_transaction_id()
    error: SfnCallbackUrlsError
    try:
        response = app.create_urls(event, transaction_id=transaction_id)
    except SfnCallbackUrlsError as exc:
        error = exc
    except Exception:  # the contract's error JSON, never a stack trace
        error = _internal_error()
    else:
        return response_json(response)
    _log_error(error, transaction_id)
    return _error_body(error, transaction_id)


# --- handling callbacks ----------------------------------------------------------------------


def _handle_callback(
    event: Mapping[str, Any], source: EventSource, context: Any
) -> CallbackResponse:
    path = path_of(event, source)
    if path and not is_callback_path(path):
        return not_found_response()
    try:
        handler = get_app().callback_handler
        request = request_of(event, source)
    except SfnCallbackUrlsError as error:
        _log_error(error)
        return render_error(error, JSON)
    try:
        # The context's remaining time caps the click's budget: our 503, not the front end's.
        return handler.handle(request, lambda_context=context)
    except Exception:  # handle() never raises; this keeps the answer well-formed if it does
        return render_error(_internal_error(), JSON)


def process_callback_handler(event: Any, context: Any) -> dict[str, Any]:
    """The callback Lambda handler: ``GET``/``POST .../respond`` from any HTTP event source.

    Any other path answers 404. An event that is not an HTTP event gets
    ``{"error": "UnsupportedEvent", "message"}``.
    """
    quiet_aws_loggers()
    try:
        source = detect_event_source(event)  # once: the steps below are given it
    except UnsupportedEvent as error:
        _log_error(error)
        return error.to_dict()
    return answer_to(_handle_callback(event, source, context), event, source)


# --- EAGER_INIT ------------------------------------------------------------------------------


def _prepare_at_init(environ: Mapping[str, str]) -> None:
    """``EAGER_INIT``: the app and what its first invocation needs, built during Lambda's init.

    Lambda's ``_HANDLER`` says which side this function serves; unknown, both are prepared.
    """
    quiet_aws_loggers()
    handler = environ.get("_HANDLER", "")
    app = _configured_app()
    if isinstance(app, SfnCallbackUrlsError):
        return  # logged; the first invocation reads the configuration again and answers it
    try:
        app.prepare(callback=not handler.endswith(".create_urls_handler"))
    except SfnCallbackUrlsError as error:
        _log_error(error)  # e.g. KMS unreachable: the first invocation calls it again
    except Exception:  # never an init failure: the invocation answers
        _internal_error()
    try:  # the Lambda Python runtime's SnapStart hooks (3.12+)
        from snapshot_restore_py import register_before_snapshot  # type: ignore[import-not-found]
    except ImportError:
        return
    register_before_snapshot(close_connections)


if flag(os.environ, ENV_EAGER_INIT):
    _prepare_at_init(os.environ)
