"""The HTTP answer: content negotiation, bodies (JSON, HTML, text), redirects and headers.

Everything here is a pure function from what happened to a `CallbackResponse`:

* `negotiate()` picks ``application/json`` (the default), ``text/html`` or ``text/plain``
  from an ``Accept`` header (q-values and wildcards honoured; anything else gets JSON);
* `render_success()` answers a completed callback: the action's ``redirect`` (303), its
  custom body for the negotiated type, or the default bodies (the contract's JSON
  ``{"transaction_id", "action": {"name", "type"}}``, a small HTML page, plain text);
* `render_confirm()` answers a GET that must be confirmed by a POST (link scanners);
* `render_error()` answers an error with fixed bodies (the contract's JSON
  ``{"error", "message"}``, an HTML page, plain text): the handler's errors and the adapters'
  own (404, 413, 400 for a malformed request);
* `render_json()` answers with any JSON body (the create-URLs function).

Every value that comes from a blob or a request is HTML-escaped in the built-in pages. A custom
``html`` body is the minter's own (authenticated) HTML and is served as is; output parameters
substituted into it were escaped when the outcome was resolved, which is enough in text and
quoted attributes but not in scripts or URLs, so its ``Content-Security-Policy`` forbids script
unless the minter set ``allow_scripts``.

Every response, the adapters' own included, carries
``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` (the URL is a capability: it must not leak through ``Referer``)
and ``X-Frame-Options: DENY``; the built-in HTML pages also carry a strict
``Content-Security-Policy``.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, Literal

from ._http_url import ascii_url
from ._models import Action, ResponseSpec
from .errors import MethodNotAllowed, OutputFormatting, SfnCallbackUrlsError

__all__ = [
    "BUILTIN_HTML_CSP",
    "CUSTOM_HTML_CSP",
    "CUSTOM_HTML_WITH_SCRIPTS_CSP",
    "HTML",
    "JSON",
    "SECURITY_HEADERS",
    "TEXT",
    "CallbackResponse",
    "MediaType",
    "negotiate",
    "reason_phrase",
    "render_confirm",
    "render_error",
    "render_json",
    "render_success",
]

MediaType = Literal["application/json", "text/html", "text/plain"]
"""The media types the callback endpoint answers in."""

JSON: Final = "application/json"
"""The JSON media type (the default answer)."""
HTML: Final = "text/html"
"""The HTML media type (pages for people clicking links)."""
TEXT: Final = "text/plain"
"""The plain-text media type."""

#: Tie-break order when the client likes several types equally: JSON is the default.
_PREFERENCE: Final[tuple[MediaType, ...]] = (JSON, HTML, TEXT)

_CONTENT_TYPES: Final[dict[str, str]] = {
    JSON: "application/json",
    HTML: "text/html; charset=utf-8",
    TEXT: "text/plain; charset=utf-8",
}

SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""Headers on every response."""

BUILTIN_HTML_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""``Content-Security-Policy`` of the built-in HTML pages: no scripts, no fetches, no framing."""

CUSTOM_HTML_CSP: Final = (
    "script-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
"""``Content-Security-Policy`` of a minter's custom HTML: no script, no plugins, no framing."""

CUSTOM_HTML_WITH_SCRIPTS_CSP: Final = "frame-ancestors 'none'; base-uri 'none'"
"""``Content-Security-Policy`` of custom HTML minted with ``allow_scripts``: no framing."""

_MAX_ACCEPT_LENGTH: Final = 4096
_MAX_ACCEPT_RANGES: Final = 64


@dataclass(frozen=True)
class CallbackResponse:
    """What the handler answers: status, headers and a body (bytes)."""

    status: int
    """The HTTP status code."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers (one value each)."""
    body: bytes = b""
    """The encoded body."""


# --- content negotiation --------------------------------------------------------------------


def _quality(params: list[str]) -> float | None:
    """The ``q`` of a media range's parameters (1 when absent); ``None`` when malformed."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def negotiate(accept: str | None) -> MediaType:
    """The media type to answer in for an ``Accept`` header.

    The candidate with the highest quality wins; a more specific range beats a wildcard for the
    same candidate (``text/html;q=0`` with ``*/*`` excludes HTML); ties go to the range listed
    first, then to JSON, HTML, text in that order. No header, nothing acceptable, or a malformed
    header: JSON.
    """
    if not accept or len(accept) > _MAX_ACCEPT_LENGTH:
        return JSON
    return _negotiate(accept)


# Browsers send a handful of distinct Accept headers; anything else only evicts entries.
@functools.lru_cache(maxsize=256)
def _negotiate(accept: str) -> MediaType:
    ranges: list[tuple[str, str, float, int]] = []
    for index, item in enumerate(accept.split(",")[:_MAX_ACCEPT_RANGES]):
        media_range, *params = item.split(";")
        main, _, sub = media_range.strip().lower().partition("/")
        q = _quality(params)
        if main and sub and q is not None:
            ranges.append((main, sub, q, index))
    best: tuple[float, int, int] | None = None
    chosen: MediaType = JSON
    for preference, candidate in enumerate(_PREFERENCE):
        main, _, sub = candidate.partition("/")
        match: tuple[int, float, int] | None = None  # (specificity, q, position)
        for range_main, range_sub, q, index in ranges:
            if (range_main, range_sub) == (main, sub):
                specificity = 2
            elif (range_main, range_sub) == (main, "*"):
                specificity = 1
            elif (range_main, range_sub) == ("*", "*"):
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, q, index)
        if match is None or match[1] <= 0:
            continue
        key = (match[1], -match[2], -preference)
        if best is None or key > best:
            best, chosen = key, candidate
    return chosen


# --- building blocks ------------------------------------------------------------------------


def _sendable(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` if every value can go on the wire (ASCII, no line breaks); else a 400.

    Only headers with values from a blob or a request need the check (a ``Location``, an
    ``Allow``); the fixed ones are ASCII. Rendering happens before the task is completed, so an
    answer that could not be sent is refused before anything happened, never after.
    """
    for value in headers.values():
        if not value.isascii() or "\r" in value or "\n" in value or "\0" in value:
            raise OutputFormatting("The answer cannot be sent: a header value is not ASCII text.")
    return headers


def _headers(content_type: str | None, **extra: str) -> dict[str, str]:
    headers = dict(SECURITY_HEADERS)
    if content_type is not None:
        headers["Content-Type"] = content_type
        headers["Vary"] = "Accept"
    headers.update(_sendable(extra))
    return headers


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _csp(media_type: MediaType, *, builtin: bool, allow_scripts: bool) -> str | None:
    if media_type != HTML:
        return None
    if builtin:
        return BUILTIN_HTML_CSP
    return CUSTOM_HTML_WITH_SCRIPTS_CSP if allow_scripts else CUSTOM_HTML_CSP


def _fixed_headers(media_type: MediaType, *, builtin: bool, allow_scripts: bool) -> dict[str, str]:
    headers = _headers(_CONTENT_TYPES[media_type])
    csp = _csp(media_type, builtin=builtin, allow_scripts=allow_scripts)
    if csp is not None:
        headers["Content-Security-Policy"] = csp
    return headers


# The fixed headers of every (media type, builtin, allow_scripts), built once: each answer
# gets its own copy (callers may add to it), in the same order as ever.
_FIXED_HEADERS: Final = {
    (media_type, builtin, allow_scripts): _fixed_headers(
        media_type, builtin=builtin, allow_scripts=allow_scripts
    )
    for media_type in _PREFERENCE
    for builtin in (True, False)
    for allow_scripts in (True, False)
}


def _respond(
    status: int,
    media_type: MediaType,
    body: str | bytes,
    *,
    builtin: bool = True,
    allow_scripts: bool = False,
    extra_headers: Mapping[str, str] | None = None,
) -> CallbackResponse:
    headers = _FIXED_HEADERS[media_type, builtin, allow_scripts].copy()
    if extra_headers:
        headers.update(_sendable(extra_headers))
    data = body.encode("utf-8") if isinstance(body, str) else body
    return CallbackResponse(status=status, headers=headers, body=data)


_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{title}</title>
<style>
body{{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#f4f5f7;color:#1f2328;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}}
main{{background:#fff;max-width:30rem;margin:1rem;padding:2rem 2.5rem;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)}}
h1{{font-size:1.35rem;margin:0 0 .75rem}}
p{{margin:.5rem 0}}
.mark{{font-size:2rem;line-height:1;margin-bottom:.5rem}}
.ok{{color:#1a7f37}}.error{{color:#cf222e}}.ask{{color:#0969da}}
.small{{color:#656d76;font-size:.85rem;word-break:break-all}}
button{{margin-top:1rem;font:inherit;font-weight:600;padding:.6rem 1.5rem;border:0;
border-radius:8px;background:#1f6feb;color:#fff;cursor:pointer}}
button:hover{{background:#1158c7}}
</style>
</head>
<body>
<main>
<div class="mark {mark_class}" aria-hidden="true">{mark}</div>
<h1>{heading}</h1>
{content}
</main>
</body>
</html>
"""


# The page split around its five fields, once: joining the pieces is what str.format did,
# without parsing a 1.5 KB template on every answer.
_PAGE_FIELDS: Final = ("title", "mark_class", "mark", "heading", "content")
_PAGE_PIECES: Final = _PAGE.format(**dict.fromkeys(_PAGE_FIELDS, "\0")).split("\0")


def _page(*, title: str, heading: str, content: str, mark: str, mark_class: str) -> str:
    """A built-in page; every argument must already be escaped HTML."""
    p = _PAGE_PIECES
    return "".join((p[0], title, p[1], mark_class, p[2], mark, p[3], heading, p[4], content, p[5]))


#: What html.escape(quote=True) replaces; names and ids never hold any (their rules say so).
_HTML_SPECIAL: Final = re.compile("[&<>\"']")


def _e(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return html.escape(text, quote=True) if _HTML_SPECIAL.search(text) else text


_PLAIN = re.compile(r"[A-Za-z0-9_-]*")


def _success_json(transaction_id: str, action: Action) -> bytes:
    """The contract's success body ``{"transaction_id", "action": {"name", "type"}}``."""
    if _PLAIN.fullmatch(transaction_id) and _PLAIN.fullmatch(action.name):
        # Names and ids are plain ASCII by their rules: no JSON escaping can apply. This is
        # every callback's answer, so it is built without the json module's overhead.
        return (
            f'{{"transaction_id":"{transaction_id}","action":'
            f'{{"name":"{action.name}","type":"{action.type}"}}}}'
        ).encode("ascii")
    body = {"transaction_id": transaction_id, "action": _action_json(action)}
    return _json_bytes(body)


def _action_json(action: Action) -> dict[str, str]:
    return {"name": action.name, "type": action.type}


# --- success --------------------------------------------------------------------------------


_DEFAULT_SPEC: Final = ResponseSpec()  # frozen: one instance serves every default answer


def _done_page(name: str, transaction_id: str) -> str:
    """The built-in success page; both arguments must already be escaped HTML."""
    return _page(
        title="Done",
        heading=f"Done: your response &#x27;{name}&#x27; was recorded",
        content=(
            "<p>Thank you. You can close this page.</p>\n"
            f'<p class="small">Reference: {transaction_id}</p>'
        ),
        mark="&#10003;",
        mark_class="ok",
    )


# The success page around its two fields, built once: every completed click renders it.
_DONE_PIECES: Final = tuple(_done_page("\0", "\0").split("\0"))


def render_success(
    action: Action,
    *,
    transaction_id: str,
    response: ResponseSpec | None,
    media_type: MediaType,
) -> CallbackResponse:
    """The answer to a completed callback.

    Raises:
        OutputFormatting: the answer cannot be sent (a header value that is not ASCII).

    Args:
        action: the sealed action (its name and type are reported).
        transaction_id: the id the URLs were minted under.
        response: the custom response (output parameters already applied), or ``None``.
        media_type: from `negotiate()`.
    """
    spec = response if response is not None else _DEFAULT_SPEC
    if spec.redirect is not None:
        try:  # minted redirects are ASCII already; a blob from an older minter may not be
            location = ascii_url(spec.redirect)
        except ValueError:
            raise OutputFormatting("The redirect URL cannot be sent.") from None
        return CallbackResponse(status=303, headers=_headers(None, Location=location))
    if media_type == JSON:
        if spec.json_ is not None:
            return _respond(200, JSON, _json_bytes(spec.json_))
        return _respond(200, JSON, _success_json(transaction_id, action))
    if media_type == HTML:
        if spec.html is not None:
            return _respond(200, HTML, spec.html, builtin=False, allow_scripts=spec.allow_scripts)
        before, between, after = _DONE_PIECES
        page = "".join((before, _e(action.name), between, _e(transaction_id), after))
        return _respond(200, HTML, page)
    if spec.text is not None:
        return _respond(200, TEXT, spec.text)
    text = f"Done: your response '{action.name}' was recorded.\nReference: {transaction_id}\n"
    return _respond(200, TEXT, text)


# --- confirmation ---------------------------------------------------------------------------

_CONFIRM_MESSAGE: Final = (
    "Opening this link does not record the response: confirm it by sending a POST request "
    "to the same URL."
)


def render_confirm(
    action: Action, *, transaction_id: str, media_type: MediaType
) -> CallbackResponse:
    """The page a GET gets when the action must be confirmed: a form that POSTs to the same URL.

    The form's ``action`` attribute is empty, which HTML defines as the document's own URL,
    query string included.
    """
    if media_type == JSON:
        body = {
            "confirm": True,
            "transaction_id": transaction_id,
            "action": _action_json(action),
            "message": _CONFIRM_MESSAGE,
        }
        return _respond(200, JSON, _json_bytes(body))
    if media_type == HTML:
        name = _e(action.name)
        page = _page(
            title=f"Confirm: {name}?",
            heading=f"Confirm: {name}?",
            content=(
                f"<p>Press the button to record your response &#x27;{name}&#x27;.</p>\n"
                '<form method="post" action="">\n'
                '<button type="submit">Confirm</button>\n'
                "</form>\n"
                f'<p class="small">Reference: {_e(transaction_id)}</p>'
            ),
            mark="?",
            mark_class="ask",
        )
        return _respond(200, HTML, page)
    return _respond(200, TEXT, f"Confirm: {action.name}?\n{_CONFIRM_MESSAGE}\n")


# --- errors ---------------------------------------------------------------------------------


def render_error(
    error: SfnCallbackUrlsError,
    media_type: MediaType,
    *,
    correlation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> CallbackResponse:
    """The fixed answer to an error, with the error's status.

    Args:
        error: its ``code``, ``status`` and (safe) ``message`` are shown.
        media_type: from `negotiate()`.
        correlation_id: for server errors: shown to the caller and logged, so that an operator
            can find the log line.
        headers: extra headers; a `MethodNotAllowed` adds its own ``Allow``, an error with a
            ``retry_after`` its ``Retry-After``.
    """
    if isinstance(error, MethodNotAllowed) and error.allowed:
        headers = {**(headers or {}), "Allow": ", ".join(error.allowed)}
    if error.retry_after is not None:  # a 503 the person can act on: try again then
        headers = {**(headers or {}), "Retry-After": str(error.retry_after)}
    if media_type == JSON:
        body: dict[str, str] = dict(error.to_dict())
        if correlation_id is not None:
            body["correlation_id"] = correlation_id
        return _respond(error.status, JSON, _json_bytes(body), extra_headers=headers)
    reference = "" if correlation_id is None else f"Reference: {correlation_id}"
    if media_type == HTML:
        content = f"<p>{_e(error.message)}</p>\n"
        content += f'<p class="small">Error: {_e(error.code)}'
        content += f"<br>{_e(reference)}</p>" if reference else "</p>"
        page = _page(
            title="This link could not be used",
            heading="This link could not be used",
            content=content,
            mark="&#10007;",
            mark_class="error",
        )
        return _respond(error.status, HTML, page, extra_headers=headers)
    text = f"Error ({error.code}): {error.message}\n"
    if reference:
        text += reference + "\n"
    return _respond(error.status, TEXT, text, extra_headers=headers)


def render_json(
    status: int, body: Any, *, headers: Mapping[str, str] | None = None
) -> CallbackResponse:
    """A JSON answer with the security headers (e.g. the create-URLs function's responses)."""
    return _respond(status, JSON, _json_bytes(body), extra_headers=headers)


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status (``"OK"``), or ``"Unknown"``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
