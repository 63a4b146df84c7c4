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
they turn pydantic's ``ValidationError`` into the library's
`InvalidRequest` (or one of its specific subclasses), whose
messages name the offending field and never echo the task token.

Field names that clash with ``BaseModel`` attributes are spelled with a trailing underscore in
Python (``ResponseSpec.json_``, ``schema_`` on outcomes) and keep their contract name (``json``,
``schema``) as alias; both names are accepted on input and dumps always use the alias.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Protocol, TypeAlias, cast
from urllib.parse import quote, urlsplit

import jsonpath_ng.ext.parser
import jsonschema.exceptions
import jsonschema.protocols
import jsonschema.validators
import re2
import referencing
import referencing.exceptions
import referencing.jsonschema
from pydantic import (
    AfterValidator,
    BaseModel,
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

from .errors import (
    DuplicateActionName,
    InvalidDate,
    InvalidJsonPath,
    InvalidJsonSchema,
    InvalidRequest,
)

__all__ = [
    "ACTION_ADAPTER",
    "MAX_ACTION_NAME_LENGTH",
    "MAX_CAUSE_LENGTH",
    "MAX_ERROR_LENGTH",
    "MAX_TOKEN_LENGTH",
    "Action",
    "ActionName",
    "CreateUrlsRequest",
    "CreateUrlsResponse",
    "FailureAction",
    "FailureOutcome",
    "HeartbeatAction",
    "HeartbeatOutcome",
    "JsonPathExpression",
    "PostAction",
    "PostOutcome",
    "ResponseSpec",
    "SuccessAction",
    "SuccessOutcome",
    "UtcDatetime",
    "compile_json_path",
    "compile_json_schema",
    "format_utc",
    "parse_action",
    "parse_create_urls_request",
]

MAX_ACTION_NAME_LENGTH = 64
"""Longest action or outcome name accepted."""

MAX_TOKEN_LENGTH = 2048
"""Longest task token Step Functions issues (and so the longest we accept)."""

MAX_ERROR_LENGTH = 256
"""Step Functions' limit on the ``error`` of ``SendTaskFailure``."""

MAX_CAUSE_LENGTH = 32768
"""Step Functions' limit on the ``cause`` of ``SendTaskFailure``."""

_MAX_REASON_LENGTH = 200
_MAX_MESSAGES = 10
_MIN_REDACTED_LENGTH = 8
_UNION_TAGS = frozenset({"success", "failure", "heartbeat", "post"})
_ISO_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")
_ERROR_CLASSES: dict[str, type[InvalidRequest]] = {
    "DuplicateActionName": DuplicateActionName,
    "InvalidDate": InvalidDate,
    "InvalidJsonPath": InvalidJsonPath,
    "InvalidJsonSchema": InvalidJsonSchema,
}

_MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    populate_by_name=True,
    serialize_by_alias=True,
    hide_input_in_errors=True,
)


# --- helpers ----------------------------------------------------------------------------------


def _shorten(text: str, limit: int = _MAX_REASON_LENGTH) -> str:
    # Messages may quote input: escape lone surrogates so they stay encodable (UTF-8, logs).
    text = " ".join(text.split()).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_utc(value: datetime) -> str:
    """ISO 8601 text of an aware datetime in UTC with a ``Z`` suffix, e.g. ``2026-11-25T10:00:00Z``.

    Fractional seconds are kept only when non-zero.
    """
    text = value.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _require_aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
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


def _check_http_url(value: str, *, allow_query: bool) -> str:
    """Accept an absolute http(s) URL; raise a ``PydanticCustomError`` otherwise."""
    problem: str | None = None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in value):
        problem = "must not contain whitespace, control characters or backslashes"
    else:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            problem = "is not a valid URL"
        else:
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                problem = "must be an absolute http:// or https:// URL"
            elif not allow_query and ("?" in value or "#" in value):
                problem = "must not have a query string or fragment"
    if problem is not None:
        raise PydanticCustomError("invalid_url", "the URL {problem}", {"problem": problem})
    return value


#: Every printable ASCII character: `_ascii_url` percent-encodes only what lies outside it.
_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def _ascii_url(url: str) -> str:
    """``url`` (absolute, ``scheme://...``) as it goes on the wire: ASCII only.

    A non-ASCII host becomes its IDNA form (``exämple.com`` -> ``xn--exmple-cua.com``); any
    other non-ASCII character is percent-encoded as UTF-8. ASCII URLs come back unchanged, so
    this is idempotent. HTTP header values are Latin-1 at best (WSGI servers and the ASGI app
    refuse anything else), so a ``Location`` must be ASCII.

    Raises:
        ValueError: the host has no IDNA form (e.g. an empty or overlong label).
    """
    if url.isascii():
        return url
    parts = urlsplit(url)
    prefix = url[: len(parts.scheme) + 3]
    if prefix[len(parts.scheme) :] != "://":
        raise ValueError("not an absolute URL")
    netloc = parts.netloc
    rest = url[len(prefix) + len(netloc) :]
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport, "", ""
    if not hostport.startswith("[") and hostport.count(":") == 1:
        host, colon, port = hostport.partition(":")
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("the host has no IDNA (ASCII) form") from None
    encoded_netloc = f"{quote(userinfo, safe=_PRINTABLE_ASCII)}{at}{ascii_host}{colon}{port}"
    return prefix + encoded_netloc + quote(rest, safe=_PRINTABLE_ASCII)


def _check_redirect(value: str | None) -> str | None:
    if value is None:
        return None
    _check_http_url(value, allow_query=True)
    try:
        return _ascii_url(value)
    except ValueError:
        raise PydanticCustomError(
            "invalid_url", "the URL's host cannot be written in ASCII (IDNA)"
        ) from None


def _check_base_url(value: str | None) -> str | None:
    return None if value is None else _check_http_url(value, allow_query=False)


class JsonPathExpression(Protocol):
    """What a compiled JSONPath offers (a ``jsonpath_ng`` expression)."""

    def find(self, data: Any) -> list[Any]:
        """All matches of the path in ``data``; each match has a ``.value``."""
        ...


@functools.lru_cache(maxsize=1024)
def compile_json_path(path: str) -> JsonPathExpression:
    """Parse a JSONPath with ``jsonpath_ng.ext`` (cached).

    Raises:
        InvalidJsonPath: the path does not parse.

    """
    try:
        return cast(JsonPathExpression, jsonpath_ng.ext.parser.parse(path))
    except Exception as exc:  # jsonpath_ng raises a variety of exceptions
        raise InvalidJsonPath(
            f"invalid JSONPath: {_shorten(str(exc) or type(exc).__name__)}"
        ) from None


def _check_json_path(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        compile_json_path(value)
    except InvalidJsonPath as exc:
        raise PydanticCustomError("InvalidJsonPath", "{reason}", {"reason": exc.message}) from None
    return value


def _validator_class(schema: dict[str, Any]) -> type[jsonschema.protocols.Validator]:
    """Return the validator class for the schema's ``$schema`` (latest draft when absent)."""
    if "$schema" not in schema:
        return jsonschema.validators.validator_for(schema)
    dialect = schema["$schema"]
    if not isinstance(dialect, str):
        raise ValueError("$schema must be a string")
    sentinel = cast(type[jsonschema.protocols.Validator], object)
    cls = jsonschema.validators.validator_for(schema, default=sentinel)
    if cls is sentinel:
        raise ValueError(f"unknown $schema {_shorten(dialect, 100)!r}")
    return cls


#: References a schema may hold: resolved only inside the schema itself (they must start with #).
_REF_KEYWORDS = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
#: Keywords that give a (sub)schema a base URI of its own; only plain-name fragments are allowed.
_ID_KEYWORDS = frozenset({"$id", "id"})
#: No remote retrieval at all: ``$ref`` resolves within the schema (and the built-in
#: metaschemas), never over the network or from files.
_NO_RETRIEVAL: referencing.Registry[Any] = referencing.Registry()


def _local_references(schema: Any) -> list[str]:
    """Every ``$ref``-like string in ``schema``; raise ``ValueError`` for one leaving the schema.

    Walks every value (data keywords such as ``const`` included: a false refusal there is
    harmless, a subschema missed is not).
    """
    refs: list[str] = []
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if not isinstance(value, str):
                    stack.append(value)
                elif key in _REF_KEYWORDS:
                    if not value.startswith("#"):
                        raise ValueError(
                            f"{key} {_shorten(value, 80)!r} points outside the schema; only "
                            "local references such as '#/$defs/name' are allowed"
                        )
                    refs.append(value)
                elif key in _ID_KEYWORDS and not value.startswith("#"):
                    raise ValueError(
                        f"{key} {_shorten(value, 80)!r} is not allowed: a schema cannot name "
                        "or load other resources"
                    )
    return refs


def _check_references(schema: dict[str, Any]) -> None:
    """Refuse references that leave the schema, and local ones that point nowhere."""
    refs = _local_references(schema)
    if not refs:
        return
    dialect = schema.get("$schema")
    specification = (
        referencing.jsonschema.specification_with(dialect)
        if isinstance(dialect, str)
        else referencing.jsonschema.DRAFT202012
    )
    resolver = _NO_RETRIEVAL.resolver_with_root(specification.create_resource(schema))
    for ref in refs:
        try:
            resolver.lookup(ref)
        except Exception:  # Unresolvable, or a malformed pointer
            raise ValueError(f"$ref {_shorten(ref, 80)!r} points nowhere in the schema") from None


# --- regular expressions in linear time (RE2) ---------------------------------------------------
#
# The minter writes the patterns, whoever holds the URL writes the body they run on: with
# Python's backtracking ``re``, ``^(a+)+$`` takes seconds on 26 characters. jsonschema calls
# ``re.search`` in ``pattern``, ``patternProperties`` and ``additionalProperties`` (those three
# are replaced below by RE2 versions), and in the evaluated-keys walk of
# ``unevaluatedProperties``, which is refused next to ``patternProperties`` instead.

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr


@functools.lru_cache(maxsize=1024)
def _linear_regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2: matching takes time linear in the input, never backtracks.

    Raises:
        ValueError: RE2 cannot run it (backreferences, lookaround and a few other
            backtracking-only constructs).
    """
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error:
        raise ValueError(
            f"pattern {_shorten(pattern, 80)!r} cannot run in linear time (RE2 does not support "
            "backreferences or lookaround)"
        ) from None


def _check_patterns(schema: Any) -> None:
    """Compile every ``pattern`` and ``patternProperties`` key with RE2 (at mint time)."""
    stack = [schema]
    has_pattern_properties = has_unevaluated_properties = False
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "pattern" and isinstance(value, str):
                    _linear_regex(value)
                elif key == "patternProperties" and isinstance(value, dict):
                    has_pattern_properties = True
                    for pattern in value:
                        _linear_regex(pattern)
                elif key == "unevaluatedProperties":
                    has_unevaluated_properties = True
                stack.append(value)
    if has_pattern_properties and has_unevaluated_properties:
        raise ValueError(
            "unevaluatedProperties cannot be combined with patternProperties (their patterns "
            "would run on a backtracking engine); use additionalProperties"
        )


def _search(pattern: str, text: str) -> bool:
    return _linear_regex(pattern).search(text) is not None


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.exceptions.ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield jsonschema.exceptions.ValidationError(f"the string does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.exceptions.ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.exceptions.ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in properties and not any(_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield jsonschema.exceptions.ValidationError(
            f"additional properties are not allowed ({len(extras)} unexpected)"
        )


def _check_json_schema_or_raise(schema: dict[str, Any]) -> None:
    try:
        _validator_class(schema).check_schema(schema)
        _check_references(schema)
        _check_patterns(schema)
    except jsonschema.exceptions.SchemaError as exc:
        reason = exc.message
    except Exception as exc:  # anything else a broken schema can trigger
        reason = str(exc) or type(exc).__name__
    else:
        return
    raise InvalidJsonSchema(f"invalid JSON Schema: {_shorten(reason)}")


def _json_key(value: Any) -> Hashable:
    """A hashable key equal for JSON-equal values (``1 == 1.0``, ``true != 1``, keys unordered)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)  # Python's int/float equality and hashing agree with JSON's
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_json_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _json_key(item)) for key, item in value.items()))
    return ("null", None) if value is None else ("other", id(value))


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.exceptions.ValidationError]:
    # jsonschema compares every pair of items (objects can't be sorted): O(n²) on a body an
    # attacker chooses. Hashing JSON-canonical keys makes it O(n).
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Hashable] = set()
    for item in instance:
        key = _json_key(item)
        if key in seen:
            yield jsonschema.exceptions.ValidationError("array items are not unique")
            return
        seen.add(key)


@functools.lru_cache(maxsize=16)
def _hardened(cls: type[jsonschema.protocols.Validator]) -> type[jsonschema.protocols.Validator]:
    """The validator class with a linear-time ``uniqueItems`` and RE2 regular expressions."""
    hardened: type[jsonschema.protocols.Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        cls,
        {
            "uniqueItems": _unique_items,
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )
    return hardened


@functools.lru_cache(maxsize=256)
def _compiled_validator(schema_text: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_text)
    _check_json_schema_or_raise(schema)
    return _hardened(_validator_class(schema))(schema, registry=_NO_RETRIEVAL)


def compile_json_schema(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """Return a checked, compiled JSON Schema validator for ``schema`` (cached on its JSON text).

    The dialect comes from ``$schema`` (the latest draft when absent; an unknown one is refused).
    Formats are not asserted (``format`` is an annotation, as in the original app). Regular
    expressions (``pattern``, ``patternProperties``) run on RE2, in time linear in the input; a
    pattern RE2 cannot run (backreferences, lookaround) is refused. Nothing is
    ever fetched: a ``$ref`` (or ``$dynamicRef``) must be local (``#/$defs/name``) and resolve
    within the schema, and ``$id``/``id`` may not name another resource; the validator
    resolves against an empty registry.

    Raises:
        InvalidJsonSchema: the schema is not a valid JSON Schema.

    """
    try:
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidJsonSchema("invalid JSON Schema: the schema is not JSON") from None
    return _compiled_validator(text)


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


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_json_text(value: Any) -> None:
    """Refuse what JSON cannot carry: lone surrogates in strings, non-finite numbers.

    pydantic accepts both from Python objects; the first cannot be encoded at all and the second
    would silently become ``null`` in the task output.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
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
    """Base of every model: each field's value must be representable as JSON text."""

    model_config = _MODEL_CONFIG

    @field_validator("*", mode="after")
    @classmethod
    def _json_safe(cls, value: Any) -> Any:
        if not isinstance(value, BaseModel):  # nested models checked themselves
            _check_json_text(value)
        return value


class ResponseSpec(_JsonSafe):
    """How the callback endpoint answers the person or system that used the URL.

    Either ``redirect`` (an absolute http(s) URL to send the browser to), or any of ``json``,
    ``html`` and ``text`` (bodies chosen by content negotiation). All optional; an empty spec
    means the default responses. A ``json`` of ``null`` means "no custom JSON body".
    """

    model_config = _MODEL_CONFIG

    redirect: Annotated[str | None, AfterValidator(_check_redirect)] = None
    """Absolute http:// or https:// URL to redirect to; excludes the other fields.

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
    """Let the custom ``html`` run script. By default its ``Content-Security-Policy`` has
    ``script-src 'none'``: output parameters are HTML-escaped, which is safe in text and quoted
    attributes but not inside ``<script>``, ``href``/``src`` or event handlers. Set it only for
    HTML whose scripts never see a parameter. Never written into blobs when false."""

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

    @model_validator(mode="after")
    def _redirect_is_exclusive(self) -> Self:
        if self.redirect is not None:
            others = [
                name
                for name, value in (("json", self.json_), ("html", self.html), ("text", self.text))
                if value is not None
            ]
            if others:
                raise PydanticCustomError(
                    "invalid_response",
                    "redirect cannot be combined with {fields}",
                    {"fields": ", ".join(others)},
                )
        return self


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

    def validator(self) -> jsonschema.protocols.Validator:
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
    confirm: bool | None = Field(default=None, strict=True)
    """Link-scanner-safe mode: GET shows a confirm page, POST acts (None: handler default)."""


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

ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)
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
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise TypeError("the validation context's 'now' must be a timezone-aware datetime")
    return now


class CreateUrlsRequest(_JsonSafe):
    """A request to mint one callback URL per action for a task token.

    ``expiration`` is an ISO 8601 date-time with a timezone, normalized to UTC, and must lie in
    the future: compared with the ``now`` of the validation context (``{"now": datetime}``) if
    given, the wall clock otherwise.
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
    base_url: Annotated[str | None, AfterValidator(_check_base_url)] = None
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
        elif not isinstance(value, datetime):
            raise PydanticCustomError(
                "InvalidDate", "the expiration must be an ISO 8601 date-time string"
            )
        try:
            result = handler(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            if all(err["type"] == "InvalidDate" for err in errors):  # naive: no timezone
                raise PydanticCustomError(
                    "InvalidDate",
                    "the expiration must include a timezone (e.g. a trailing Z for UTC)",
                ) from None
            reasons = "; ".join(_shorten(str(err["msg"])) for err in errors)
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


# --- parsing with the library's errors --------------------------------------------------------


def _format_loc(loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    for index, item in enumerate(loc):
        # Drop the discriminator tag pydantic inserts after a list index (or at the top).
        if item in _UNION_TAGS and (index == 0 or isinstance(loc[index - 1], int)):
            continue
        parts.append(str(item))
    return ".".join(parts)


_WINDOW = 16


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<redacted>")
        # A message may hold a shortened piece of the secret (reasons are cut to length before
        # we see them): any 24+ character piece contains one of these aligned windows.
        windows = range(0, max(len(secret) - _WINDOW + 1, 1), _WINDOW // 2)
        if any(secret[i : i + _WINDOW] in text for i in windows):
            return "the value is invalid (details withheld: they would show the token)"
    return text


def _error_message(error: Mapping[str, Any], secrets: Sequence[str]) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "union_tag_invalid":
        tag = _shorten(_redact(str(ctx.get("tag", "")), secrets), 40)
        return f"unknown type {tag!r}; expected one of {ctx.get('expected_tags', '')}"
    if error["type"] == "union_tag_not_found":
        return "the type field is required"
    return str(error["msg"])


def _to_request_error(exc: ValidationError, secrets: Iterable[str] = ()) -> InvalidRequest:
    """Turn a ValidationError into InvalidRequest (or its specific subclass), redacting secrets."""
    # Shorter "secrets" are test placeholders, and redacting them would garble every message.
    hidden = [secret for secret in secrets if len(secret) >= _MIN_REDACTED_LENGTH]
    raw = exc.errors(include_url=False, include_input=False)
    pairs: list[tuple[str, str]] = []
    for error in raw:
        loc, msg = _format_loc(error["loc"]), _error_message(error, hidden)
        pairs.append((_redact(loc, hidden), _redact(msg, hidden)))
    classes = {_ERROR_CLASSES.get(error["type"], InvalidRequest) for error in raw}
    error_class = classes.pop() if len(classes) == 1 else InvalidRequest
    shown = [f"{loc}: {msg}" if loc else msg for loc, msg in pairs[:_MAX_MESSAGES]]
    if len(pairs) > _MAX_MESSAGES:
        shown.append(f"and {len(pairs) - _MAX_MESSAGES} more errors")
    return error_class("; ".join(shown) or InvalidRequest.default_message, errors=pairs)


def _token_of(data: Mapping[str, Any] | str | bytes) -> str | None:
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None
    if isinstance(data, Mapping):
        token = data.get("token")
        return token if isinstance(token, str) else None
    return None


def parse_create_urls_request(
    data: Mapping[str, Any] | str | bytes, *, now: datetime | None = None
) -> CreateUrlsRequest:
    """Validate a create-URLs request given as a mapping or as JSON text.

    Args:
        data: the decoded request, or its JSON text.
        now: the time the expiration must lie after (timezone-aware); the wall clock if omitted.

    Raises:
        InvalidRequest: the request is invalid (or not JSON); the specific subclass
            ``DuplicateActionName``, ``InvalidDate``, ``InvalidJsonPath`` or ``InvalidJsonSchema``
            when every error is of that kind. The task token never appears in the message.
        ValueError: ``now`` is naive.

    """
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be a timezone-aware datetime")
    context = {"now": now} if now is not None else None
    try:
        if isinstance(data, (str, bytes, bytearray)):
            return CreateUrlsRequest.model_validate_json(data, context=context)
        if isinstance(data, Mapping) and not isinstance(data, dict):
            data = dict(data)
        return CreateUrlsRequest.model_validate(data, context=context)
    except ValidationError as exc:
        token = _token_of(data)
        raise _to_request_error(exc, [token] if token else []) from None


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
        raise _to_request_error(exc) from None
