"""JSON Schema and JSONPath for POST actions: compiled once, hardened, loaded on first use.

POST actions choose their outcome by the JSON Schema the body matches and may take output,
error and cause from the body by JSONPath. Both are written by the minter but run on bodies an
attacker chooses, so they are compiled once (cached on their text) and hardened: ``uniqueItems``
and regular expressions (RE2) run in linear time, formats are annotations only, and no ``$ref``
ever leaves the schema (nothing is fetched, from the network or from files).

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
    "escaped",
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


def escaped(text: str) -> str:
    r"""``text`` with every character that is not printable shown as Python escapes it.

    Line breaks, tabs, control characters, ``ESC``, bidirectional overrides and lone
    surrogates become ``\n``, ``\t``, ``\x1b``, ``\u202e``, ``\ud800``: quoted input
    cannot forge a log line, recolour a terminal, reorder what is shown or fail to encode.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def shorten(text: str, limit: int = _MAX_REASON_LENGTH) -> str:
    """``text`` on one line, printable, cut to ``limit`` characters: how messages quote input.

    Whitespace runs become one space (a library's message may span lines), then anything
    still not printable is `escaped`. Messages reach logs and answers.
    """
    text = escaped(" ".join(text.split()))
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
        expression = jsonpath_ng.ext.parser.parse(path)
        _run_regexes_on_re2(expression)
    except Exception as exc:  # jsonpath_ng raises a variety of exceptions
        raise InvalidJsonPath(
            f"invalid JSONPath: {shorten(str(exc) or type(exc).__name__)}"
        ) from None
    return cast(JsonPathExpression, expression)


def _run_regexes_on_re2(expression: Any) -> None:
    """Make every regular expression of a parsed JSONPath run on RE2 (see below).

    jsonpath-ng runs two kinds with Python's backtracking ``re``, on values from the body: the
    ``=~`` filter (``$[?(@.name =~ "^a")]``) and the ``sub(/regex/, repl)`` string function.
    Each node is switched to its subclass that asks RE2 instead (same answers, linear time);
    a pattern RE2 cannot run is refused here, at mint, with the reason.

    Raises:
        ValueError: a pattern RE2 cannot run, or an ``=~`` whose pattern is not a string.
    """
    import jsonpath_ng
    from jsonpath_ng.ext.filter import Expression
    from jsonpath_ng.ext.string import Sub

    stack = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not isinstance(node, jsonpath_ng.JSONPath):
            continue
        if type(node) is Expression and node.op == "=~":
            if not isinstance(node.value, str):
                raise ValueError("the =~ operator takes a string pattern")
            _linear_regex(node.value)  # refused now, not on the first body
            node.__class__ = _linear_match_class()
        elif type(node) is Sub:
            node.regex = _linear_regex(node.expr)  # Sub.find calls self.regex.sub()
        stack.extend(vars(node).values())


@functools.cache
def _linear_match_class() -> type:
    """jsonpath-ng's filter ``Expression`` whose ``=~`` searches with RE2.

    Its ``find`` is what ``Expression.find`` does for ``=~`` with a string pattern (the only
    kind the parser builds): the values the target finds that are strings the pattern
    matches somewhere (``re.search``), with ``re`` replaced by RE2.
    """
    from jsonpath_ng.ext.filter import Expression
    from jsonpath_ng.jsonpath import DatumInContext

    class _LinearMatch(Expression):
        def find(self, datum: Any) -> list[Any]:
            regex = _linear_regex(self.value)
            found = self.target.find(DatumInContext.wrap(datum))
            return [
                match
                for match in found
                if isinstance(match.value, str) and regex.search(match.value) is not None
            ]

    return _LinearMatch


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


#: References a schema may hold: resolved only inside the schema itself (they must start with #).
_REF_KEYWORDS = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
#: Keywords that give a (sub)schema a base URI of its own; only plain-name fragments are allowed.
_ID_KEYWORDS = frozenset({"$id", "id"})


@functools.cache
def _no_retrieval() -> Any:
    """An empty ``referencing.Registry``: nothing is ever retrieved.

    ``$ref`` resolves within the schema (and the built-in metaschemas), never over the network
    or from files.
    """
    import referencing

    return referencing.Registry()


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
                            f"{key} {shorten(value, 80)!r} points outside the schema; only "
                            "local references such as '#/$defs/name' are allowed"
                        )
                    refs.append(value)
                elif key in _ID_KEYWORDS and not value.startswith("#"):
                    raise ValueError(
                        f"{key} {shorten(value, 80)!r} is not allowed: a schema cannot name "
                        "or load other resources"
                    )
    return refs


def _check_references(schema: dict[str, Any]) -> None:
    """Refuse references that leave the schema, and local ones that point nowhere."""
    refs = _local_references(schema)
    if not refs:
        return
    import referencing.jsonschema

    dialect = schema.get("$schema")
    specification = (
        referencing.jsonschema.specification_with(dialect)
        if isinstance(dialect, str)
        else referencing.jsonschema.DRAFT202012
    )
    resolver = _no_retrieval().resolver_with_root(specification.create_resource(schema))
    for ref in refs:
        try:
            resolver.lookup(ref)
        except Exception:  # Unresolvable, or a malformed pointer
            raise ValueError(f"$ref {shorten(ref, 80)!r} points nowhere in the schema") from None


# --- regular expressions in linear time (RE2) ---------------------------------------------------
#
# The minter writes the patterns, whoever holds the URL writes the body they run on: with
# Python's backtracking ``re``, ``^(a+)+$`` takes seconds on 26 characters. jsonschema calls
# ``re.search`` in ``pattern``, ``patternProperties`` and ``additionalProperties`` (those three
# are replaced below by RE2 versions), and in the evaluated-keys walk of
# ``unevaluatedProperties``, which is refused next to ``patternProperties`` instead.


@functools.lru_cache(maxsize=1024)
def _linear_regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2: matching takes time linear in the input, never backtracks.

    Raises:
        ValueError: RE2 cannot run it (backreferences, lookaround and a few other
            backtracking-only constructs).
    """
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error:
        raise ValueError(
            f"pattern {shorten(pattern, 80)!r} cannot run in linear time (RE2 does not support "
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
    import jsonschema.exceptions

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
    import jsonschema.exceptions

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


def _check_json_schema(schema: dict[str, Any]) -> None:
    import jsonschema.exceptions

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
    """The validator class with a linear-time ``uniqueItems`` and RE2 regular expressions."""
    import jsonschema.validators

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
def _compiled_validator(schema_text: str) -> JsonSchemaValidator:
    schema = json.loads(schema_text)
    _check_json_schema(schema)
    return _hardened(_validator_class(schema))(schema, registry=_no_retrieval())


def compile_json_schema(schema: Mapping[str, Any]) -> JsonSchemaValidator:
    """Return a checked, compiled JSON Schema validator for ``schema`` (cached on its JSON text).

    The dialect comes from ``$schema`` (the latest draft when absent; an unknown one is refused).
    Formats are not asserted (``format`` is an annotation, as in the original app). Regular
    expressions (``pattern``, ``patternProperties``) run on RE2, in time linear in the input; a
    pattern RE2 cannot run (backreferences, lookaround) is refused. Nothing is ever fetched: a
    ``$ref`` (or ``$dynamicRef``) must be local (``#/$defs/name``) and resolve within the
    schema, and ``$id``/``id`` may not name another resource; the validator resolves against an
    empty registry.

    Raises:
        InvalidJsonSchema: the schema is not a valid JSON Schema.
    """
    try:
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidJsonSchema("invalid JSON Schema: the schema is not JSON") from None
    return _compiled_validator(text)
