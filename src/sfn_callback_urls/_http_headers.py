"""The HTTP header rules: names in any case, repeated values joined, a media type's essence."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["add_header", "header", "media_type"]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case) in ``headers``, whatever case they spell it in."""
    value = headers.get(name)  # adapters hand names in lower case: found at once
    if value is not None:
        return value
    for key, item in headers.items():
        if key.lower() == name:
            return item
    return None


def add_header(headers: dict[str, str], name: str, value: str) -> None:
    """Add ``name: value`` under the lower-case name, joined to an earlier value with ``", "``.

    RFC 9110: several field lines of one name mean their values joined by commas.
    """
    key = name.lower()
    headers[key] = f"{headers[key]}, {value}" if key in headers else value


def media_type(content_type: str | None) -> str:
    """A ``Content-Type``'s ``type/subtype`` in lower case, parameters dropped ("" when none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()
