"""pydantic's ``ValidationError`` to our `InvalidRequest`, naming the field, never the token.

Validators in the models raise ``PydanticCustomError`` whose *type* is one of our error codes
(``InvalidDate``, ``DuplicateActionName``, ...); when every error of a request has the same such
type, the specific subclass is raised. Messages never echo input values (the models hide input
in errors) and any piece of the task token that still shows up is redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ._schema import escaped, shorten
from .errors import (
    DuplicateActionName,
    InvalidDate,
    InvalidJsonPath,
    InvalidJsonSchema,
    InvalidRequest,
)

__all__ = ["to_request_error", "token_of"]

_MAX_MESSAGES = 10
_MAX_FIELD_NAME_LENGTH = 80
_MIN_REDACTED_LENGTH = 8
_WINDOW = 16
_UNION_TAGS = frozenset({"success", "failure", "heartbeat", "post"})
#: The tags of ``confirm``'s two forms (``_models.ConfirmField``): a flag or a page.
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
