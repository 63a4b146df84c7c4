"""JSON Schema and JSONPath for POST actions: compiled once, hardened, loaded on first use.

POST actions choose their outcome by the JSON Schema the body matches and may take output,
error and cause from the body by JSONPath. Both are written by the minter but run on bodies an
attacker chooses, so they are compiled once (cached on their text) and hardened: ``uniqueItems``
runs in linear time, formats are annotations only, and remote ``$ref`` s are never fetched.

``jsonschema`` and ``jsonpath_ng`` are imported on first use: a process that never mints or
opens a POST action never loads them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from .errors import InvalidJsonPath, InvalidJsonSchema

if TYPE_CHECKING:
    import jsonschema.exceptions
    import jsonschema.protocols

__all__ = [
    "JsonPathExpression",
    "JsonSchemaValidator",
    "compile_json_path",
    "compile_json_schema",
    "shorten",
]

_MAX_REASON_LENGTH = 200


class JsonPathExpression(Protocol):
    """What a compiled JSONPath offers (a ``jsonpath_ng`` expression)."""

    def find(self, data: Any) -> list[Any]:
        """All matches of the path in ``data``; each match has a ``.value``."""
        ...


class JsonSchemaValidator(Protocol):
    """What a compiled JSON Schema offers (a ``jsonschema`` validator)."""

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` is valid under the schema."""
        ...


def shorten(text: str, limit: int = _MAX_REASON_LENGTH) -> str:
    """``text`` on one line, cut to ``limit`` characters, lone surrogates escaped.

    Messages may quote input: escaping keeps them encodable (UTF-8, logs).
    """
    text = " ".join(text.split()).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- JSONPath --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def compile_json_path(path: str) -> JsonPathExpression:
    """Parse a JSONPath with ``jsonpath_ng.ext`` (cached).

    Raises:
        InvalidJsonPath: the path does not parse.
    """
    import jsonpath_ng.ext.parser

    try:
        return cast(JsonPathExpression, jsonpath_ng.ext.parser.parse(path))
    except Exception as exc:  # jsonpath_ng raises a variety of exceptions
        raise InvalidJsonPath(
            f"invalid JSONPath: {shorten(str(exc) or type(exc).__name__)}"
        ) from None


# --- JSON Schema -----------------------------------------------------------------------------


def _validator_class(schema: dict[str, Any]) -> type[jsonschema.protocols.Validator]:
    """Return the validator class for the schema's ``$schema`` (latest draft when absent)."""
    import jsonschema.validators

    if "$schema" not in schema:
        return jsonschema.validators.validator_for(schema)
    dialect = schema["$schema"]
    if not isinstance(dialect, str):
        raise ValueError("$schema must be a string")
    sentinel = cast("type[jsonschema.protocols.Validator]", object)
    cls = jsonschema.validators.validator_for(schema, default=sentinel)
    if cls is sentinel:
        raise ValueError(f"unknown $schema {shorten(dialect, 100)!r}")
    return cls


def _check_json_schema(schema: dict[str, Any]) -> None:
    import jsonschema.exceptions

    try:
        _validator_class(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        reason = exc.message
    except Exception as exc:  # anything else a broken schema can trigger
        reason = str(exc) or type(exc).__name__
    else:
        return
    raise InvalidJsonSchema(f"invalid JSON Schema: {shorten(reason)}")


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
    import jsonschema.exceptions

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
    """The validator class with a linear-time ``uniqueItems``."""
    import jsonschema.validators

    hardened: type[jsonschema.protocols.Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        cls, {"uniqueItems": _unique_items}
    )
    return hardened


@functools.lru_cache(maxsize=256)
def _compiled_validator(schema_text: str) -> JsonSchemaValidator:
    schema = json.loads(schema_text)
    _check_json_schema(schema)
    return _hardened(_validator_class(schema))(schema)


def compile_json_schema(schema: Mapping[str, Any]) -> JsonSchemaValidator:
    """Return a checked, compiled JSON Schema validator for ``schema`` (cached on its JSON text).

    The dialect comes from ``$schema`` (the latest draft when absent; an unknown one is refused).
    Formats are not asserted (``format`` is an annotation, as in the original app) and remote
    ``$ref`` s are never fetched.

    Raises:
        InvalidJsonSchema: the schema is not a valid JSON Schema.
    """
    try:
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidJsonSchema("invalid JSON Schema: the schema is not JSON") from None
    return _compiled_validator(text)
