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

Data only: untrusted input is parsed by ``_validation`` (which turns pydantic's errors into
ours, and keeps the original app's looser reading through ``_original_request``), and the
minter's response is written by ``_response_writer``. JSON Schemas and JSONPaths are compiled
by ``_schema``.

Field names that clash with ``BaseModel`` attributes are spelled with a trailing underscore in
Python (``ResponseSpec.json_``, ``schema_`` on outcomes) and keep their contract name (``json``,
``schema``) as alias; both names are accepted on input and dumps always use the alias.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Protocol, TypeAlias

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
from ._contract import (
    MAX_ACTION_NAME_LENGTH,
    MAX_CAUSE_LENGTH,
    MAX_ERROR_LENGTH,
    MAX_TOKEN_LENGTH,
    is_unicode_text,
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
from ._time import as_utc, format_utc, is_aware
from .errors import InvalidJsonPath, InvalidJsonSchema

__all__ = [
    "ACTION_ADAPTER",
    "ACTION_CLASSES",
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
    "future_expiration",
    "unique_names",
]

_ISO_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)

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


def _require_aware_utc(value: datetime) -> datetime:
    utc = as_utc(value)
    if utc is not None:
        return utc
    if not is_aware(value):
        raise PydanticCustomError(
            "InvalidDate", "the date-time must include a timezone (e.g. a trailing Z for UTC)"
        )
    raise PydanticCustomError("InvalidDate", "the date-time is out of range")


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


def unique_names(items: Sequence[_Named], what: str) -> None:
    """Refuse a second item of one name (``DuplicateActionName``): the request's rule."""
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
        unique_names(value, "outcome")
        return value


Action: TypeAlias = Annotated[
    SuccessAction | FailureAction | HeartbeatAction | PostAction,
    Field(discriminator="type"),
]
"""Any action, discriminated by ``type``."""

ACTION_CLASSES: dict[str, type[SuccessAction | FailureAction | HeartbeatAction | PostAction]] = {
    cls.model_fields["type"].default: cls
    for cls in (SuccessAction, FailureAction, HeartbeatAction, PostAction)
}
"""Every action class by its ``type``: the one type table (the codec numbers it on the wire)."""

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


def future_expiration(value: datetime, now: datetime) -> datetime:
    """An expiration object as the request holds it: aware, in UTC, after ``now``.

    The request's rule for an expiration; text is parsed to a datetime first.

    Raises:
        PydanticCustomError: (type ``InvalidDate``) ``value`` is naive, has no UTC equivalent,
            or does not lie after ``now``.
    """
    utc = as_utc(value)
    if utc is None:
        if not is_aware(value):
            raise PydanticCustomError(
                "InvalidDate", "the expiration must include a timezone (e.g. tzinfo=timezone.utc)"
            )
        raise PydanticCustomError(
            "InvalidDate", "the expiration is not a valid date-time: the date-time is out of range"
        )
    if utc <= now:
        raise PydanticCustomError("InvalidDate", "the expiration is in the past")
    return utc


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
        unique_names(value, "action")
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
                # can say what they mean. The rule below gets the datetime: no second parse.
                value = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
        elif not isinstance(value, datetime):
            raise PydanticCustomError(
                "InvalidDate", "the expiration must be an ISO 8601 date-time string"
            )
        if isinstance(value, datetime):  # an object, or text parsed above
            return future_expiration(value, _context_now(info))
        try:  # text that does not parse: the handler says why
            result = handler(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            reasons = "; ".join(shorten(str(err["msg"])) for err in errors)
            raise PydanticCustomError(
                "InvalidDate",
                "the expiration is not a valid date-time: {reason}",
                {"reason": reasons},
            ) from None
        return future_expiration(result, _context_now(info))


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
