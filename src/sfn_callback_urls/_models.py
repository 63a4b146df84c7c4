"""The data model: actions, POST outcomes, response specs and the create-URLs request/response.

Everything here is a frozen pydantic v2 model that forbids unknown fields. The JSON shapes are the
original app's contract (see ``DESIGN.md``):

* a create-URLs request ``{"token", "actions": [...], "expiration"?, "enable_output_parameters"?,
  "base_url"?}`` (`CreateUrlsRequest`);
* actions of type ``success``, ``failure``, ``heartbeat`` and ``post`` (`Action`), each with
  an optional custom ``response`` (`ResponseSpec`);
* the outcomes of a ``post`` action (`PostOutcome`), chosen by the JSON Schema the POST body
  matches;
* the create-URLs response ``{"transaction_id", "urls", "expiration"?}``
  (`CreateUrlsResponse`).

Use `parse_create_urls_request()` and `parse_action()` to validate untrusted input:
they turn pydantic's ``ValidationError`` into the library's `InvalidRequest` (or one of its
specific subclasses, see ``_validation``), whose messages name the offending field and never
echo the task token. JSON Schemas and JSONPaths are compiled by ``_schema``.

`parse_create_urls_request()` is the JSON contract's entry point and keeps the original app's
meaning where it was looser than the models: unknown fields inside actions, POST outcomes and
responses are dropped (with one warning naming them) instead of refused, while the request's
own fields stay strict; an ``expiration`` without a timezone is UTC.

Field names that clash with ``BaseModel`` attributes are spelled with a trailing underscore in
Python (``ResponseSpec.json_``, ``schema_`` on outcomes) and keep their contract name (``json``,
``schema``) as alias; both names are accepted on input and dumps always use the alias.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Protocol, TypeAlias, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from ._approval import ConfirmField, confirm_problem
from ._claims import checked_now, is_aware
from ._contract import (
    MAX_ACTION_NAME_LENGTH,
    MAX_CAUSE_LENGTH,
    MAX_ERROR_LENGTH,
    MAX_TOKEN_LENGTH,
    is_unicode_text,
    refuse_json_constant,
)
from ._http_url import (
    checked_http_url,
    default_region,
    execute_api_problem,
    execute_api_url,
)
from ._schema import (
    JsonPathExpression,
    JsonSchemaValidator,
    compile_json_path,
    compile_json_schema,
    shorten,
)
from ._validation import to_request_error, token_of
from .errors import InvalidJson, InvalidJsonPath, InvalidJsonSchema

__all__ = [
    "ACTION_ADAPTER",
    "Action",
    "ActionName",
    "CreateUrlsRequest",
    "CreateUrlsResponse",
    "FailureAction",
    "FailureOutcome",
    "HeartbeatAction",
    "HeartbeatOutcome",
    "PostAction",
    "PostOutcome",
    "ResponseSpec",
    "SuccessAction",
    "SuccessOutcome",
    "UtcDatetime",
    "format_utc",
    "parse_action",
    "parse_create_urls_request",
    "response_json",
    "trusted_response",
]

_ISO_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)
_log = logging.getLogger(__name__)

_MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    populate_by_name=True,
    serialize_by_alias=True,
    hide_input_in_errors=True,
    # Schemas are built on first use: a process that only mints success actions never builds
    # the POST action, outcome and request schemas.
    defer_build=True,
)


# --- helpers ----------------------------------------------------------------------------------


def format_utc(value: datetime) -> str:
    """ISO 8601 text of an aware datetime in UTC with a ``Z`` suffix, e.g. ``2026-11-25T10:00:00Z``.

    Fractional seconds are kept only when non-zero.
    """
    text = value.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _require_aware_utc(value: datetime) -> datetime:
    if not is_aware(value):
        raise PydanticCustomError(
            "InvalidDate", "the date-time must include a timezone (e.g. a trailing Z for UTC)"
        )
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC equivalent
        raise PydanticCustomError("InvalidDate", "the date-time is out of range") from None


UtcDatetime: TypeAlias = Annotated[
    datetime,
    AfterValidator(_require_aware_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]
"""A timezone-aware datetime, normalized to UTC, dumped to JSON as ``2026-11-25T10:00:00Z``.

A naive datetime is refused (error type ``InvalidDate``).
"""

ActionName: TypeAlias = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ACTION_NAME_LENGTH, pattern=r"^[A-Za-z0-9_]+$"),
]
"""An action or outcome name: 1 to 64 ASCII letters, digits or underscores.

The original app's rule was ``^\\w+$``; we keep it to ASCII since names travel in URLs.
"""


def _check_http_url(value: str | None, *, allow_query: bool) -> str | None:
    if value is None:
        return None
    try:  # URLs go on the wire (and into e-mails) in ASCII
        return checked_http_url(value, allow_query=allow_query)
    except ValueError as exc:
        problem = {"problem": str(exc)}
        raise PydanticCustomError("invalid_url", "the URL {problem}", problem) from None


def _check_redirect(value: str | None) -> str | None:
    return _check_http_url(value, allow_query=True)


def _check_base_url(value: str | None) -> str | None:
    return _check_http_url(value, allow_query=False)


_BASE_URL_OBJECT_FIELDS = frozenset({"api_id", "stage", "region"})


def _base_url_from_object(value: Any) -> Any:
    """The original's ``{"api_id", "stage", "region"?}`` as the URL it stood for.

    The region defaults to the function's own (``AWS_REGION``), as the original's did.
    """
    if not isinstance(value, Mapping):
        return value
    if not _BASE_URL_OBJECT_FIELDS.issuperset(value):
        raise PydanticCustomError(
            "invalid_base_url", "as an object, base_url takes api_id, stage and region only"
        )
    api_id, stage = value.get("api_id"), value.get("stage")
    if api_id is None or stage is None:
        raise PydanticCustomError(
            "invalid_base_url", "as an object, base_url needs api_id and stage"
        )
    region = value.get("region")
    if region is None:
        region = default_region()
        if region is None:
            raise PydanticCustomError(
                "invalid_base_url",
                "base_url has no region and no AWS region is configured (AWS_REGION)",
            )
    problem = execute_api_problem(api_id, stage, region)
    if problem is not None:
        raise PydanticCustomError("invalid_base_url", "{problem}", {"problem": problem})
    return execute_api_url(api_id, stage, region)


def _check_json_path(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        compile_json_path(value)
    except InvalidJsonPath as exc:
        raise PydanticCustomError("InvalidJsonPath", "{reason}", {"reason": exc.message}) from None
    return value


def _check_json_schema(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    try:
        compile_json_schema(value)  # cached: decoding a known action does not re-check
    except InvalidJsonSchema as exc:
        raise PydanticCustomError(
            "InvalidJsonSchema", "{reason}", {"reason": exc.message}
        ) from None
    return value


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def _unique_names(items: Sequence[_Named], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise PydanticCustomError(
                "DuplicateActionName",
                "{what} name {name} is given more than once",
                {"what": what, "name": repr(item.name)},
            )
        seen.add(item.name)


# --- response spec ----------------------------------------------------------------------------


def _check_json_text(value: Any) -> None:
    """Refuse what JSON cannot carry: lone surrogates in strings, non-finite numbers.

    pydantic accepts both from Python objects; the first cannot be encoded at all and the second
    would silently become ``null`` in the task output.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_unicode_text(item):
                raise PydanticCustomError(
                    "invalid_text", "strings must be valid Unicode (no lone surrogates)"
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise PydanticCustomError("invalid_number", "numbers must be finite")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


class _JsonSafe(BaseModel):
    """Base of every model: each field's value must be representable as JSON text.

    Only the fields that can hold text or arbitrary JSON are checked (names are ASCII by their
    pattern, flags are booleans): one check per such field, not one per field, since every
    callback decodes an action.
    """

    model_config = _MODEL_CONFIG

    @field_validator(
        "token",
        "base_url",
        "redirect",
        "json_",
        "html",
        "text",
        "output",
        "error",
        "cause",
        "schema_",
        "output_path",
        "error_path",
        "cause_path",
        mode="after",
        check_fields=False,
    )
    @classmethod
    def _json_safe(cls, value: Any) -> Any:
        _check_json_text(value)
        return value


_RESPONSE_BODIES = frozenset({"json", "json_", "html", "text"})


class ResponseSpec(_JsonSafe):
    """How the callback endpoint answers the person or system that used the URL.

    ``redirect`` (an absolute http(s) URL to send the browser to), or any of ``json``, ``html``
    and ``text`` (bodies chosen by content negotiation). All optional; an empty spec means the
    default responses. A ``json`` of ``null`` means "no custom JSON body".

    ``redirect`` takes precedence, as in the original app: given with ``json``, ``html`` or
    ``text``, the spec keeps the redirect alone (the bodies are dropped, never sealed into a URL).
    """

    model_config = _MODEL_CONFIG

    redirect: Annotated[str | None, AfterValidator(_check_redirect)] = None
    """Absolute http:// or https:// URL to redirect to (303); the other fields are dropped.

    Stored as it goes on the wire: a non-ASCII host in its IDNA form, other non-ASCII
    characters percent-encoded (``https://exämple.com/ü`` -> ``https://xn--exmple-cua.com/%C3%BC``).
    """
    json_: JsonValue = Field(default=None, alias="json")
    """Custom JSON body (any JSON value); ``None`` for the default one."""
    html: str | None = None
    """Custom HTML body."""
    text: str | None = None
    """Custom plain-text body."""
    allow_scripts: bool = Field(default=False, strict=True)
    """Let the custom ``html`` run script.

    By default its ``Content-Security-Policy`` has ``script-src 'none'``: output parameters are
    HTML-escaped, which is safe in text and quoted attributes but not inside ``<script>``,
    ``href``/``src`` or event handlers. Set it only for HTML whose scripts never see a
    parameter. Never written into blobs when false.
    """

    @model_serializer(mode="wrap")
    def _omit_allow_scripts_when_false(self, handler: SerializerFunctionWrapHandler) -> Any:
        # The contract's shape (and every blob minted before the field existed) is unchanged
        # unless a minter opts in.
        data = handler(self)
        if isinstance(data, dict) and not self.allow_scripts:
            data.pop("allow_scripts", None)
        return data

    @model_validator(mode="after")
    def _scripts_need_html(self) -> Self:
        if self.allow_scripts and self.html is None:
            raise PydanticCustomError(
                "invalid_response", "allow_scripts applies to a custom html body only"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _redirect_wins(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("redirect") is not None:
            return {key: value for key, value in data.items() if key not in _RESPONSE_BODIES}
        return data


# --- POST outcomes ----------------------------------------------------------------------------


class _Tagged(_JsonSafe):
    """Base of actions and outcomes: their dumps always carry what parsing them back needs.

    ``type`` (the discriminator) has a default and ``output`` may be ``null``, so
    ``exclude_defaults``/``exclude_none`` would drop them and the dump would no longer parse
    back to the same model; they are put back.
    """

    model_config = _MODEL_CONFIG

    @model_serializer(mode="wrap")
    def _keep_essentials(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for key, value in self._essentials().items():
                data.setdefault(key, value)
        return data

    def _essentials(self) -> dict[str, Any]:
        return {"type": self.__dict__["type"]}


class _OutcomeBase(_Tagged):
    name: ActionName
    """The outcome's name, unique within its POST action."""
    schema_: Annotated[dict[str, JsonValue], AfterValidator(_check_json_schema)] = Field(
        alias="schema"
    )
    """The JSON Schema a POST body must match to select this outcome."""
    response: ResponseSpec | None = None
    """Custom response when this outcome is chosen."""

    def validator(self) -> JsonSchemaValidator:
        """Return the compiled JSON Schema validator of ``schema`` (cached)."""
        return compile_json_schema(self.schema_)

    def matches(self, body: Any) -> bool:
        """Whether the (decoded JSON) POST body is valid under this outcome's schema."""
        return bool(self.validator().is_valid(body))


class SuccessOutcome(_OutcomeBase):
    """POST outcome that completes the task with ``SendTaskSuccess``.

    The output is, at most one of them being given: the POST body (``output_body: true``), the
    list of values ``output_path`` selects in the body, or the fixed ``output``. When none is
    given the output is the empty object ``{}`` (the default of ``output``).
    """

    type: Literal["success"] = "success"
    """Discriminator."""
    output: JsonValue = Field(default_factory=dict)
    """Fixed task output; defaults to ``{}``."""
    output_body: bool = Field(default=False, strict=True)
    """Use the whole POST body as task output."""
    output_path: Annotated[str | None, AfterValidator(_check_json_path)] = None
    """JSONPath into the POST body; the output is the list of matched values."""

    @model_validator(mode="after")
    def _one_output_source(self) -> Self:
        given = [
            name
            for name, present in (
                ("output", self.output != {}),
                ("output_body", self.output_body),
                ("output_path", self.output_path is not None),
            )
            if present
        ]
        if len(given) > 1:
            raise PydanticCustomError(
                "invalid_outcome",
                "give at most one of output, output_body and output_path (got {fields})",
                {"fields": ", ".join(given)},
            )
        return self

    def compiled_output_path(self) -> JsonPathExpression | None:
        """Return the compiled ``output_path`` (cached), or ``None`` when not set."""
        return None if self.output_path is None else compile_json_path(self.output_path)

    def _essentials(self) -> dict[str, Any]:
        # A null output differs from the default {}: keep it even under exclude_none.
        return {"type": self.type, **({"output": None} if self.output is None else {})}


class FailureOutcome(_OutcomeBase):
    """POST outcome that fails the task with ``SendTaskFailure``.

    ``error`` and ``cause`` are either fixed (``error``/``cause``) or taken from the POST body by
    a JSONPath (``error_path``/``cause_path``); for each, at most one of the two may be given.
    """

    type: Literal["failure"] = "failure"
    """Discriminator."""
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    """Fixed error code."""
    error_path: Annotated[str | None, AfterValidator(_check_json_path)] = None
    """JSONPath into the POST body giving the error code."""
    cause: str | None = Field(default=None, max_length=MAX_CAUSE_LENGTH)
    """Fixed error cause."""
    cause_path: Annotated[str | None, AfterValidator(_check_json_path)] = None
    """JSONPath into the POST body giving the error cause."""

    @model_validator(mode="after")
    def _fixed_or_path(self) -> Self:
        conflicts = [
            f"{key} and {key}_path"
            for key, fixed, path in (
                ("error", self.error, self.error_path),
                ("cause", self.cause, self.cause_path),
            )
            if fixed is not None and path is not None
        ]
        if conflicts:
            raise PydanticCustomError(
                "invalid_outcome",
                "{conflicts} are mutually exclusive",
                {"conflicts": "; ".join(conflicts)},
            )
        return self

    def compiled_error_path(self) -> JsonPathExpression | None:
        """Return the compiled ``error_path`` (cached), or ``None`` when not set."""
        return None if self.error_path is None else compile_json_path(self.error_path)

    def compiled_cause_path(self) -> JsonPathExpression | None:
        """Return the compiled ``cause_path`` (cached), or ``None`` when not set."""
        return None if self.cause_path is None else compile_json_path(self.cause_path)


class HeartbeatOutcome(_OutcomeBase):
    """POST outcome that sends a heartbeat (``SendTaskHeartbeat``)."""

    type: Literal["heartbeat"] = "heartbeat"
    """Discriminator."""


PostOutcome: TypeAlias = Annotated[
    SuccessOutcome | FailureOutcome | HeartbeatOutcome,
    Field(discriminator="type"),
]
"""One outcome of a POST action, discriminated by ``type``."""


# --- actions ----------------------------------------------------------------------------------


class _ActionBase(_JsonSafe):
    # Unlike outcomes, actions keep pydantic's plain (fast) serializer: the blob codec dumps
    # them with ``exclude_defaults`` on purpose, dropping ``type``, which it stores in a byte.
    # So ``exclude_defaults``/``exclude_none`` dumps of an action don't parse back on their own.
    model_config = _MODEL_CONFIG

    name: ActionName
    """The action's name, unique within a request; it keys the response's ``urls``."""
    response: ResponseSpec | None = None
    """Custom response after the action is taken."""
    confirm: ConfirmField = None
    """Link-scanner-safe mode: GET shows a confirm page, POST acts (None: handler default).

    A `ConfirmPage` always asks, and gives the page a title, details and a comment box.
    """

    @model_validator(mode="after")
    def _comment_fits_action(self) -> Self:
        action_type = self.__dict__["type"]  # every concrete action has one
        problem = confirm_problem(self.confirm, action_type, self.__dict__.get("output"))
        if problem is not None:
            raise PydanticCustomError("invalid_confirm", "confirm: {problem}", {"problem": problem})
        return self


class SuccessAction(_ActionBase):
    """Complete the task with ``SendTaskSuccess`` and ``output`` (any JSON value; required)."""

    type: Literal["success"] = "success"
    """Discriminator."""
    output: JsonValue
    """The task output. Must be present, may be ``null``."""


class FailureAction(_ActionBase):
    """Fail the task with ``SendTaskFailure`` and the optional ``error`` and ``cause``."""

    type: Literal["failure"] = "failure"
    """Discriminator."""
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    """Error code (at most 256 characters)."""
    cause: str | None = Field(default=None, max_length=MAX_CAUSE_LENGTH)
    """Error cause (at most 32,768 characters)."""


class HeartbeatAction(_ActionBase):
    """Send a heartbeat for the task (``SendTaskHeartbeat``)."""

    type: Literal["heartbeat"] = "heartbeat"
    """Discriminator."""


class PostAction(_ActionBase):
    """An action taken by POSTing a JSON body; the first outcome whose schema matches is taken."""

    type: Literal["post"] = "post"
    """Discriminator."""
    outcomes: list[PostOutcome] = Field(min_length=1)
    """The candidate outcomes, tried in order; names are unique."""

    @field_validator("outcomes")
    @classmethod
    def _unique_outcome_names(cls, value: list[PostOutcome]) -> list[PostOutcome]:
        _unique_names(value, "outcome")
        return value


Action: TypeAlias = Annotated[
    SuccessAction | FailureAction | HeartbeatAction | PostAction,
    Field(discriminator="type"),
]
"""Any action, discriminated by ``type``."""

ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action, config=ConfigDict(defer_build=True))
"""Validates and dumps a single `Action` (e.g. ``ACTION_ADAPTER.validate_json(data)``).

Dumps made with ``exclude_defaults=True`` or ``exclude_none=True`` (compact) still parse back to
an equal action: ``type`` and a ``null`` ``output`` are always dumped.
"""


# --- create-URLs request and response ---------------------------------------------------------


def _context_now(info: ValidationInfo) -> datetime:
    context = info.context
    now = context.get("now") if isinstance(context, Mapping) else None
    if now is None:
        return datetime.now(timezone.utc)
    if not isinstance(now, datetime) or not is_aware(now):
        raise TypeError("the validation context's 'now' must be a timezone-aware datetime")
    return now


class CreateUrlsRequest(_JsonSafe):
    """A request to mint one callback URL per action for a task token.

    ``expiration`` is an ISO 8601 date-time, normalized to UTC, and must lie in the future:
    compared with the ``now`` of the validation context (``{"now": datetime}``) if given, the
    wall clock otherwise. As text without a timezone it is UTC (the original app compared it
    with the Lambda's clock, which is UTC); a naive ``datetime`` object is refused.

    ``base_url`` is a URL, or the original's object ``{"api_id", "stage", "region"?}``, which
    stands for ``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}`` (the region
    defaults to ``AWS_REGION``).
    """

    model_config = _MODEL_CONFIG

    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, repr=False)
    """The Step Functions task token. Never echoed in error messages."""
    actions: list[Action] = Field(min_length=1)
    """The actions to mint URLs for; names are unique."""
    expiration: UtcDatetime | None = None
    """When the URLs stop working (aware, UTC); ``None`` for the minter's default."""
    enable_output_parameters: bool = Field(default=False, strict=True)
    """Allow query parameters to be substituted into outputs."""
    base_url: Annotated[
        str | None, BeforeValidator(_base_url_from_object), AfterValidator(_check_base_url)
    ] = None
    """Absolute http(s) URL the callback URLs start with (no query string or fragment)."""

    @field_validator("actions")
    @classmethod
    def _unique_action_names(cls, value: list[Action]) -> list[Action]:
        _unique_names(value, "action")
        return value

    @field_validator("expiration", mode="wrap")
    @classmethod
    def _check_expiration(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            if not _ISO_DATE_PREFIX.match(value.strip()):
                raise PydanticCustomError(
                    "InvalidDate", "the expiration must be an ISO 8601 date-time"
                )
            try:
                parsed: datetime | None = _DATETIME.validate_python(value)
            except ValidationError:
                parsed = None  # the handler below says what is wrong with it
            if parsed is not None:
                # The JSON contract: text without a timezone is UTC, as the original's Lambda
                # clock was. A naive datetime *object* stays refused (below): Python callers
                # can say what they mean. The handler gets the datetime: no second parse.
                value = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
        elif not isinstance(value, datetime):
            raise PydanticCustomError(
                "InvalidDate", "the expiration must be an ISO 8601 date-time string"
            )
        elif not is_aware(value):  # a naive datetime object (naive text is UTC, above)
            raise PydanticCustomError(
                "InvalidDate", "the expiration must include a timezone (e.g. tzinfo=timezone.utc)"
            )
        try:
            result = handler(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            reasons = "; ".join(shorten(str(err["msg"])) for err in errors)
            raise PydanticCustomError(
                "InvalidDate",
                "the expiration is not a valid date-time: {reason}",
                {"reason": reasons},
            ) from None
        if result is not None and result <= _context_now(info):
            raise PydanticCustomError("InvalidDate", "the expiration is in the past")
        return cast("datetime | None", result)


class CreateUrlsResponse(BaseModel):
    """The answer to a create-URLs request.

    ``model_dump(mode="json", exclude_none=True)`` gives the contract's
    ``{"transaction_id", "urls", "expiration"?}`` with the expiration as ``...Z`` UTC text.
    """

    model_config = _MODEL_CONFIG

    transaction_id: str
    """Identifies this batch of URLs (it appears in callback responses and logs)."""
    urls: dict[str, str]
    """Callback URL by action name."""
    expiration: UtcDatetime | None = None
    """When the URLs expire, if they do."""


_RESPONSE_FIELDS = frozenset(("transaction_id", "urls", "expiration"))


def trusted_response(
    transaction_id: str, urls: dict[str, str], expiration: datetime | None
) -> CreateUrlsResponse:
    """A `CreateUrlsResponse` of values the minter made or checked: not validated again.

    What ``model_construct`` makes (``tests/test_urls.py`` compares the two), without its
    generic per-field loop, which costs more than a tenth of a one-URL mint.
    """
    response = _new_object(CreateUrlsResponse)
    _set_attribute(
        response,
        "__dict__",
        {"transaction_id": transaction_id, "urls": urls, "expiration": expiration},
    )
    _set_attribute(response, "__pydantic_fields_set__", set(_RESPONSE_FIELDS))
    _set_attribute(response, "__pydantic_extra__", None)
    _set_attribute(response, "__pydantic_private__", None)
    return response


_new_object = object.__new__
_set_attribute = object.__setattr__


def response_json(response: CreateUrlsResponse) -> dict[str, Any]:
    """The contract's JSON of a response: ``model_dump(mode="json", exclude_none=True)``.

    Written out, since the ready app answers every request with it and the generic dump costs
    more than the rest of the answer (``tests/test_urls.py`` checks the two agree).
    """
    answer: dict[str, Any] = {
        "transaction_id": response.transaction_id,
        "urls": dict(response.urls),
    }
    if response.expiration is not None:
        answer["expiration"] = format_utc(response.expiration)
    return answer


# --- parsing with the library's errors --------------------------------------------------------


def _field_names(*models: type[BaseModel]) -> frozenset[str]:
    """Every name a model's fields accept (names and aliases)."""
    names: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():
            names.add(name)
            if info.alias:
                names.add(info.alias)
    return frozenset(names)


_ACTION_FIELD_NAMES = {
    "success": _field_names(SuccessAction),
    "failure": _field_names(FailureAction),
    "heartbeat": _field_names(HeartbeatAction),
    "post": _field_names(PostAction),
}
_OUTCOME_FIELD_NAMES = {
    "success": _field_names(SuccessOutcome),
    "failure": _field_names(FailureOutcome),
    "heartbeat": _field_names(HeartbeatOutcome),
}
_RESPONSE_FIELD_NAMES = _field_names(ResponseSpec)
# Field names shown in the warning: a typo looks like this; anything else (a token pasted as
# a key, say) is not repeated in a log.
_SHOWN_FIELD_NAME = re.compile(r"[A-Za-z0-9_$-]{1,40}")
_MAX_SHOWN_FIELDS = 20


def _known_fields(
    value: Any, names: Mapping[str, frozenset[str]] | frozenset[str], path: str, dropped: list[str]
) -> Any:
    """``value`` without the keys its type does not know; their paths go to ``dropped``."""
    if not isinstance(value, dict):
        return value
    if isinstance(names, Mapping):
        kind = value.get("type")
        known = names.get(kind) if isinstance(kind, str) else None
        if known is None:
            return value  # no such type: validation says so
    else:
        known = names
    unknown = [key for key in value if key not in known]
    if not unknown:
        return value
    for key in unknown:
        shown = key if isinstance(key, str) and _SHOWN_FIELD_NAME.fullmatch(key) else "<?>"
        dropped.append(f"{path}.{shown}")
    return {key: item for key, item in value.items() if key in known}


def _without_unknown_fields(data: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
    """The request with unknown fields of its actions, outcomes and responses removed.

    The original app's schema allowed them there (and ignored them); its top level was strict,
    and so is ours. Nothing is mutated: changed parts are copies.
    """
    actions = data.get("actions")
    if not isinstance(actions, list):
        return data
    cleaned: list[Any] = []
    for index, raw in enumerate(actions):
        path = f"actions.{index}"
        action = _known_fields(raw, _ACTION_FIELD_NAMES, path, dropped)
        if isinstance(action, dict) and isinstance(action.get("response"), dict):
            response = _known_fields(
                action["response"], _RESPONSE_FIELD_NAMES, f"{path}.response", dropped
            )
            action = {**action, "response": response}
        if isinstance(action, dict) and isinstance(action.get("outcomes"), list):
            outcomes = []
            for number, raw_outcome in enumerate(action["outcomes"]):
                where = f"{path}.outcomes.{number}"
                outcome = _known_fields(raw_outcome, _OUTCOME_FIELD_NAMES, where, dropped)
                if isinstance(outcome, dict) and isinstance(outcome.get("response"), dict):
                    response = _known_fields(
                        outcome["response"], _RESPONSE_FIELD_NAMES, f"{where}.response", dropped
                    )
                    outcome = {**outcome, "response": response}
                outcomes.append(outcome)
            action = {**action, "outcomes": outcomes}
        cleaned.append(action)
    return {**data, "actions": cleaned}


def _load_json(data: str | bytes | bytearray) -> Any:
    try:
        return json.loads(data, parse_constant=refuse_json_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        # No detail: the decoder's message quotes the text around the error, token included.
        message = "The request is not valid JSON."
        raise InvalidJson(message, errors=[("", message)]) from None


def parse_create_urls_request(
    data: Mapping[str, Any] | str | bytes, *, now: datetime | None = None
) -> CreateUrlsRequest:
    """Validate a create-URLs request given as a mapping or as JSON text: the JSON contract.

    Where the original app's contract was looser than the models, its meaning is kept: unknown
    fields inside actions, POST outcomes and responses are dropped, with one warning on the
    ``sfn_callback_urls._models`` logger naming them (typos worth catching); the request's own
    fields stay strict. An ``expiration`` without a timezone is UTC.

    Args:
        data: the decoded request, or its JSON text.
        now: the time the expiration must lie after (timezone-aware); the wall clock if omitted.

    Raises:
        InvalidJson: ``data`` is text that is not JSON (code ``InvalidJSON``, as the original).
        InvalidRequest: the request is invalid; the specific subclass
            ``DuplicateActionName``, ``InvalidDate``, ``InvalidJsonPath`` or ``InvalidJsonSchema``
            when every error is of that kind. The task token never appears in the message.
        ValueError: ``now`` is naive.

    """
    if now is not None:
        checked_now(now)  # ValueError when naive
    context = {"now": now} if now is not None else None
    if isinstance(data, (str, bytes, bytearray)):
        data = _load_json(data)
    if isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    if isinstance(data, dict):
        dropped: list[str] = []
        data = _without_unknown_fields(data, dropped)
        if dropped:
            shown = ", ".join(dropped[:_MAX_SHOWN_FIELDS])
            if len(dropped) > _MAX_SHOWN_FIELDS:
                shown += f" and {len(dropped) - _MAX_SHOWN_FIELDS} more"
            _log.warning(
                "create-URLs request: ignored unknown fields (the original app ignored them "
                "too; check them for typos): %s",
                shown,
            )
    try:
        return CreateUrlsRequest.model_validate(data, context=context)
    except ValidationError as exc:
        token = token_of(data)
        raise to_request_error(exc, [token] if token else []) from None


def parse_action(data: Mapping[str, Any] | str | bytes) -> Action:
    """Validate one action given as a mapping or as JSON text.

    Raises:
        InvalidRequest: the action is invalid (or not JSON); a specific subclass when every error
            is of that kind (see `parse_create_urls_request()`).

    """
    try:
        if isinstance(data, (str, bytes, bytearray)):
            return ACTION_ADAPTER.validate_json(data)
        if isinstance(data, Mapping) and not isinstance(data, dict):
            data = dict(data)
        return ACTION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise to_request_error(exc) from None
