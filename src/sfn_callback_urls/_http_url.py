"""The rule for the absolute http(s) URLs a minter gives us: base URLs and redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["http_url_problem"]


def http_url_problem(value: str, *, allow_query: bool) -> str | None:
    """What is wrong with ``value`` as an absolute http(s) URL, or ``None`` if nothing is.

    The answer completes the sentence "the URL ...", e.g. ``"must not contain whitespace"``.

    Args:
        value: the URL.
        allow_query: whether a query string and fragment are allowed (redirects: yes; base
            URLs: no, the callback path and query are appended to them).
    """
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in value):
        return "must not contain whitespace, control characters or backslashes"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if not allow_query and ("?" in value or "#" in value):
        return "must not have a query string or fragment"
    return None
