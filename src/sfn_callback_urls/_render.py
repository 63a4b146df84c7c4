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

The built-in HTML pages speak to the approver, a person: one heading and one sentence saying
what happened and what they can do, codes and references in the small print, all in the
handler's `PageTheme` (its words, product name, logo, accent colour and footer). Every value
that comes from a blob or a request (a confirm page's title and details, the approver's own
comment) is HTML-escaped in the built-in pages. A custom
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
from datetime import datetime
from http import HTTPStatus
from typing import Any, Final, Literal

from ._approval import ConfirmPage
from ._http_url import ascii_url
from ._models import Action, ResponseSpec
from ._theme import DEFAULT_THEME, PageTheme, PageWords
from ._wording import action_label, darker
from .errors import (
    ActionMismatched,
    ExpiredPayload,
    InvalidComment,
    MethodNotAllowed,
    OutputFormatting,
    PayloadError,
    PayloadTooLarge,
    SfnCallbackUrlsError,
    TaskAlreadyCompleted,
)

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


_STYLE: Final = """body{{margin:0;min-height:100vh;display:flex;flex-direction:column;
align-items:center;justify-content:center;background:#f4f5f7;color:#1f2328;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}}
.card{{box-sizing:border-box;width:calc(100% - 2rem);max-width:32rem;margin:1rem}}
header{{display:flex;align-items:center;gap:.5rem;margin:0 0 .75rem;color:#424a53;font-weight:600}}
header img{{max-height:2rem;max-width:10rem}}
main{{background:#fff;padding:1.5rem 1.5rem 1.25rem;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)}}
footer{{margin:.75rem 0 0;color:#57606a;font-size:.85rem;white-space:pre-wrap}}
h1{{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem;overflow-wrap:anywhere}}
p{{margin:.5rem 0}}
.mark{{font-size:2rem;line-height:1;margin-bottom:.5rem}}
.ok{{color:#1a7f37}}.error{{color:#cf222e}}.ask{{color:{accent}}}
.details,.quote{{white-space:pre-wrap;overflow-wrap:anywhere}}
.quote{{margin:.25rem 0 .5rem;padding:.25rem .75rem;border-left:3px solid #d0d7de}}
.small{{color:#57606a;font-size:.85rem;overflow-wrap:anywhere}}
label{{display:block;margin-top:1rem;font-weight:600}}
textarea{{box-sizing:border-box;width:100%;margin-top:.25rem;font:inherit;padding:.5rem;
border:1px solid #8c959f;border-radius:6px}}
textarea[aria-invalid=true]{{border-color:#cf222e}}
.hint{{color:#57606a;font-size:.85rem;margin-top:.25rem}}
.problem{{color:#a40e26;font-weight:600}}
button{{margin-top:1rem;font:inherit;font-weight:600;padding:.6rem 1.5rem;border:0;
border-radius:8px;background:{accent};color:#fff;cursor:pointer}}
button:hover{{background:{hover}}}
:focus-visible{{outline:3px solid {accent};outline-offset:2px}}"""


@functools.lru_cache(maxsize=16)
def _style(accent: str) -> str:
    return _STYLE.format(accent=accent, hover=darker(accent))


def _page(theme: PageTheme, *, heading: str, content: str, mark: str, mark_class: str) -> str:
    """A built-in page: one card, one heading; ``heading`` and ``content`` are escaped HTML."""
    product = "" if theme.product_name is None else _e(theme.product_name)
    title = f"{heading} \u00b7 {product}" if product else heading
    header = ""
    if theme.logo_url is not None or product:
        logo = "" if theme.logo_url is None else f'<img src="{_e(theme.logo_url)}" alt="{product}">'
        # With a logo whose alt text is the name, the name is not written twice.
        name = f"<span>{product}</span>" if product and theme.logo_url is None else ""
        header = f"<header>{logo}{name}</header>\n"
    footer = "" if theme.footer is None else f"<footer>{_e(theme.footer)}</footer>\n"
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(theme.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{title}</title>\n<style>\n{_style(theme.accent_color)}\n</style>\n</head>\n"
        f'<body>\n<div class="card">\n{header}<main>\n'
        f'<div class="mark {mark_class}" aria-hidden="true">{mark}</div>\n'
        f"<h1>{heading}</h1>\n{content}\n</main>\n{footer}</div>\n</body>\n</html>\n"
    )


def _theme_csp(theme: PageTheme) -> str:
    """The built-in pages' policy; a logo is the one image it allows, by its exact URL."""
    if theme.logo_url is None:
        return BUILTIN_HTML_CSP
    return f"{BUILTIN_HTML_CSP}; img-src {theme.logo_url}"


def _html_page(
    status: int, theme: PageTheme, page: str, headers: Mapping[str, str] | None = None
) -> CallbackResponse:
    if theme.logo_url is not None:
        headers = {"Content-Security-Policy": _theme_csp(theme), **(headers or {})}
    return _respond(status, HTML, page, extra_headers=headers)


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


def _small(*lines: str) -> str:
    """The small print (codes and references, for support); lines are escaped HTML."""
    shown = [line for line in lines if line]
    return f'<p class="small">{"<br>".join(shown)}</p>' if shown else ""


def _done_page(action: Action, transaction_id: str, theme: PageTheme, comment: str | None) -> str:
    words = theme.words
    heading = words.done_headings.get(action.name.lower())
    if heading is None:
        heading = words.format("done_heading", action=action_label(action.name))
    content = f"<p>{_e(words.done_sentence)}</p>\n"
    if comment is not None:
        content += (
            f'<p class="small">{_e(words.your_comment)}</p>\n<p class="quote">{_e(comment)}</p>\n'
        )
    content += _small(_e(words.format("reference", reference=transaction_id)))
    return _page(theme, heading=_e(heading), content=content, mark="&#10003;", mark_class="ok")


def render_success(
    action: Action,
    *,
    transaction_id: str,
    response: ResponseSpec | None,
    media_type: MediaType,
    theme: PageTheme = DEFAULT_THEME,
    comment: str | None = None,
) -> CallbackResponse:
    """The answer to a completed callback.

    Raises:
        OutputFormatting: the answer cannot be sent (a header value that is not ASCII).

    Args:
        action: the sealed action (its name and type are reported).
        transaction_id: the id the URLs were minted under.
        response: the custom response (output parameters already applied), or ``None``.
        media_type: from `negotiate()`.
        theme: the look and words of the built-in page.
        comment: the approver's comment, shown (escaped) on the built-in page.
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
        return _html_page(200, theme, _done_page(action, transaction_id, theme, comment))
    if spec.text is not None:
        return _respond(200, TEXT, spec.text)
    text = f"Done: your response '{action.name}' was recorded.\nReference: {transaction_id}\n"
    return _respond(200, TEXT, text)


# --- confirmation ---------------------------------------------------------------------------

_CONFIRM_MESSAGE: Final = (
    "Opening this link does not record the response: confirm it by sending a POST request "
    "to the same URL."
)


def _comment_box(page: ConfirmPage, words: PageWords, refused: InvalidComment | None) -> str:
    """The labelled comment box: hint, and the reason it was refused, tied to it for AT."""
    limit = f"{page.comment_max_length:,}"
    required = page.comment == "required"
    label = words.comment_required if required else words.comment_optional
    described = "comment-hint"
    problem = ""
    shown = ""
    if refused is not None:
        described = "comment-problem comment-hint"
        if refused.reason == "missing":
            reason = words.comment_missing
        elif refused.reason == "too_long":
            reason = words.format("comment_too_long", limit=limit)
        else:
            reason = words.comment_invalid
        problem = f'<p id="comment-problem" class="problem">{_e(reason)}</p>\n'
        shown = refused.shown
    attributes = f'maxlength="{page.comment_max_length}" aria-describedby="{described}"'
    if required:
        attributes += " required"
    if refused is not None:
        attributes += ' aria-invalid="true" autofocus'
    # The newline after <textarea> is eaten by the HTML parser, never a leading one of the text.
    return (
        f'<label for="comment">{_e(label)}</label>\n{problem}'
        f'<textarea id="comment" name="comment" rows="4" {attributes}>\n{_e(shown)}</textarea>\n'
        f'<p id="comment-hint" class="hint">{_e(words.format("comment_hint", limit=limit))}</p>\n'
    )


def render_confirm(
    action: Action,
    *,
    transaction_id: str,
    media_type: MediaType,
    theme: PageTheme = DEFAULT_THEME,
    expires_at: datetime | None = None,
    refused: InvalidComment | None = None,
) -> CallbackResponse:
    """The page a GET gets when the action must be confirmed: a form that POSTs to the same URL.

    The form's ``action`` attribute is empty, which HTML defines as the document's own URL,
    query string included. With a `ConfirmPage`, its title is the heading, its details follow,
    and the form has the comment box it asks for. ``refused`` shows the page again (400) with
    the reason next to the box and the comment as sent.
    """
    page = action.confirm if isinstance(action.confirm, ConfirmPage) else None
    if media_type == JSON:
        body: dict[str, Any] = {
            "confirm": True,
            "transaction_id": transaction_id,
            "action": _action_json(action),
            "message": _CONFIRM_MESSAGE,
        }
        if page is not None:
            body.update(
                title=page.title,
                details=page.details,
                comment=page.comment,
                comment_max_length=page.comment_max_length,
            )
        return _respond(200, JSON, _json_bytes(body))
    if media_type == HTML:
        words = theme.words
        button = action_label(action.name)
        if page is None:
            heading = _e(words.format("confirm_heading", action=button))
            content = f"<p>{_e(words.confirm_sentence)}</p>\n"
        else:
            heading = _e(page.title)
            content = f'<p class="details">{_e(page.details)}</p>\n' if page.details else ""
            chosen = html.escape(words.choose).format(button=f"<strong>{_e(button)}</strong>")
            content += f"<p>{chosen}</p>\n"
        content += '<form method="post" action="">\n'
        if page is not None and page.takes_comment:
            content += _comment_box(page, words, refused)
        content += f'<button type="submit">{_e(button)}</button>\n</form>\n'
        expires = (
            ""
            if expires_at is None
            else _e(words.format("expires", date=words.format_date(expires_at)))
        )
        content += _small(expires, _e(words.format("reference", reference=transaction_id)))
        status = 200 if refused is None else refused.status
        built = _page(theme, heading=heading, content=content, mark="?", mark_class="ask")
        return _html_page(status, theme, built)
    lines = [f"Confirm: {action.name}?"]
    if page is not None:
        lines.append(page.title)
        if page.details:
            lines.append(page.details)
    return _respond(200, TEXT, "\n".join([*lines, _CONFIRM_MESSAGE]) + "\n")


# --- errors ---------------------------------------------------------------------------------


def _error_words(error: SfnCallbackUrlsError, words: PageWords) -> tuple[str, str, str]:
    """Heading, sentence and extra small print (plain text) of an error, in the approver's terms."""
    if isinstance(error, ExpiredPayload):
        expired = words.format("expired_at", date=words.format_date(error.expired_at))
        return words.expired_heading, words.expired_sentence, expired
    if isinstance(error, TaskAlreadyCompleted):
        return words.already_heading, words.already_sentence, ""
    if isinstance(error, (PayloadError, ActionMismatched)) and not isinstance(
        error, PayloadTooLarge
    ):
        return words.invalid_heading, words.invalid_sentence, ""
    if error.status == HTTPStatus.SERVICE_UNAVAILABLE:
        return words.unavailable_heading, words.unavailable_sentence, ""
    if error.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return words.internal_heading, words.internal_sentence, ""
    # Anything else is about this site's settings or a malformed request: the message is for
    # whoever helps, in the small print.
    return words.unusable_heading, words.unusable_sentence, error.message


def render_error(
    error: SfnCallbackUrlsError,
    media_type: MediaType,
    *,
    correlation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    theme: PageTheme = DEFAULT_THEME,
) -> CallbackResponse:
    """The fixed answer to an error, with the error's status.

    Args:
        error: its ``code``, ``status`` and (safe) ``message`` are shown.
        media_type: from `negotiate()`.
        correlation_id: for server errors: shown to the caller and logged, so that an operator
            can find the log line.
        headers: extra headers; a `MethodNotAllowed` adds its own ``Allow``, an error with a
            ``retry_after`` its ``Retry-After``.
        theme: the look and words of the HTML page: a heading and one sentence saying what
            happened and what the person can do; code and reference in the small print.
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
        words = theme.words
        heading, sentence, detail = _error_words(error, words)
        small = _small(
            _e(detail),
            _e(words.format("code", code=error.code)),
            ""
            if correlation_id is None
            else _e(words.format("reference", reference=correlation_id)),
        )
        page = _page(
            theme,
            heading=_e(heading),
            content=f"<p>{_e(sentence)}</p>\n{small}",
            mark="&#10007;",
            mark_class="error",
        )
        return _html_page(error.status, theme, page, headers)
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
