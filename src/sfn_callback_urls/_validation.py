"""Untrusted input to models: a create-URLs request or an action parsed, pydantic's errors as ours.

`parse_create_urls_request()` and `parse_action()` validate untrusted input (JSON text or
mappings); pydantic's ``ValidationError`` becomes our `InvalidRequest`, naming the field, never
the token.

Validators in the models raise ``PydanticCustomError`` whose *type* is one of our error codes
(``InvalidDate``, ``DuplicateActionName``, ...); when every error of a request has the same such
type, the specific subclass is raised. Messages never echo input values (the models hide input
in errors) and any piece of the task token that still shows up is redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ._contract import ACTION_TYPES, refuse_json_constant
from ._models import ACTION_ADAPTER, Action, CreateUrlsRequest
from ._original_request import without_unknown_fields
from ._schema import escaped, shorten
from ._time import checked_now
from .errors import (
    DuplicateActionName,
    InvalidDate,
    InvalidJson,
    InvalidJsonPath,
    InvalidJsonSchema,
    InvalidRequest,
)

__all__ = ["parse_action", "parse_create_urls_request", "to_request_error", "token_of"]

_MAX_MESSAGES = 10
_MAX_FIELD_NAME_LENGTH = 80
_MIN_REDACTED_LENGTH = 8
_WINDOW = 16
_UNION_TAGS = frozenset(ACTION_TYPES)
#: The tags of ``confirm``'s two forms (``_approval.ConfirmField``): a flag or a page.
_CONFIRM_TAGS = frozenset({"flag", "page"})
_ERROR_CLASSES: dict[str, type[InvalidRequest]] = {
    "DuplicateActionName": DuplicateActionName,
    "InvalidDate": InvalidDate,
    "InvalidJsonPath": InvalidJsonPath,
    "InvalidJsonSchema": InvalidJsonSchema,
}


def _format_loc(loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    for index, item in enumerate(loc):
        # Drop the discriminator tag pydantic inserts after a list index (or at the top).
        if item in _UNION_TAGS and (index == 0 or isinstance(loc[index - 1], int)):
            continue
        if item in _CONFIRM_TAGS and index > 0 and loc[index - 1] == "confirm":
            continue
        # Field names come from the request (an unknown key, say): shown printable, like
        # every quoted input, so that a message cannot forge log lines.
        parts.append(shorten(escaped(str(item)), _MAX_FIELD_NAME_LENGTH))
    return ".".join(parts)


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
        tag = shorten(_redact(str(ctx.get("tag", "")), secrets), 40)
        return f"unknown type {tag!r}; expected one of {ctx.get('expected_tags', '')}"
    if error["type"] == "union_tag_not_found":
        return "the type field is required"
    return str(error["msg"])


def to_request_error(exc: ValidationError, secrets: Iterable[str] = ()) -> InvalidRequest:
    """``exc`` as `InvalidRequest` (or its specific subclass), with ``secrets`` redacted."""
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


def token_of(data: Mapping[str, Any] | str | bytes) -> str | None:
    """The ``token`` of a create-URLs request given as a mapping or JSON, if there is one."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None
    if isinstance(data, Mapping):
        token = data.get("token")
        return token if isinstance(token, str) else None
    return None


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
        data = without_unknown_fields(data)
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
