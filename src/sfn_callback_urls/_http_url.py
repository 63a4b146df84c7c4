"""The rule for the absolute http(s) URLs a minter gives us: base URLs and redirects.

Redirects are stored as they go on the wire, in ASCII (`ascii_url()`).

Also API Gateway's own addresses, which the original app built from an API id, a stage and a
region (its ``API_ID``/``STAGE`` variables and its ``base_url`` objects).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

__all__ = [
    "REGION_VARIABLES",
    "ascii_url",
    "checked_http_url",
    "default_region",
    "execute_api_problem",
    "execute_api_url",
    "has_unsafe_characters",
    "http_url_problem",
]


def has_unsafe_characters(value: str) -> bool:
    """Whether ``value`` holds whitespace or a control character (DEL included).

    A URL must not: clients strip them, or split on them.
    """
    if value.isascii() and value.isprintable():  # ASCII: only " " to "~"; the usual case
        return " " in value
    return any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)


def http_url_problem(value: str, *, allow_query: bool) -> str | None:
    """What is wrong with ``value`` as an absolute http(s) URL, or ``None`` if nothing is.

    The answer completes the sentence "the URL ...", e.g. ``"must not contain whitespace"``.

    Args:
        value: the URL.
        allow_query: whether a query string and fragment are allowed (redirects: yes; base
            URLs: no, the callback path and query are appended to them).
    """
    if has_unsafe_characters(value) or "\\" in value:
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


def checked_http_url(value: str, *, allow_query: bool) -> str:
    """``value`` as it goes on the wire (`ascii_url()`), once `http_url_problem()` finds nothing.

    The one rule for base URLs (``allow_query=False``) and redirects (``allow_query=True``).

    Raises:
        ValueError: what is wrong, completing the sentence "the URL ...".
    """
    problem = http_url_problem(value, allow_query=allow_query)
    if problem is None:
        try:
            return ascii_url(value)
        except ValueError:
            problem = "has a host that cannot be written in ASCII (IDNA)"
    raise ValueError(problem)


#: Every printable ASCII character: `ascii_url` percent-encodes only what lies outside it.
_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def ascii_url(url: str) -> str:
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


# --- API Gateway's own addresses (the original app's API_ID/STAGE and base_url objects) -------

_API_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}|\$default")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
#: The variables a Lambda function's region is read from, in order (boto3's order too).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def default_region(environ: Mapping[str, str] = os.environ) -> str | None:
    """The function's AWS region (``AWS_REGION``, else ``AWS_DEFAULT_REGION``), if set."""
    for name in REGION_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def execute_api_problem(api_id: str, stage: str, region: str) -> str | None:
    """What is wrong with an API id, stage and region, or ``None`` if nothing is.

    The answer names the part, e.g. ``"the stage must be letters, digits, '-' or '_'"``.
    """
    if not isinstance(api_id, str) or not _API_ID.fullmatch(api_id):
        return "the API id must be letters and digits"
    if not isinstance(stage, str) or not _STAGE.fullmatch(stage):
        return "the stage must be letters, digits, '-' or '_'"
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        return "the region must be an AWS region name such as us-east-1"
    return None


def execute_api_url(api_id: str, stage: str, region: str) -> str:
    """``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}``, as the original built it.

    The ``$default`` stage of an HTTP API has no path; China regions use ``amazonaws.com.cn``.
    Check the parts with `execute_api_problem()` first.
    """
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    path = "" if stage == "$default" else f"/{stage}"
    return f"https://{api_id}.execute-api.{region}.{suffix}{path}"
