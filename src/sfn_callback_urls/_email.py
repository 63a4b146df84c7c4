"""The approval e-mail: minted URLs plus a title and details become a subject, HTML and text.

```python
urls = minter.mint(token, actions, expires_in=timedelta(days=7))
mail = approval_email(urls, title="Deploy build 1234 to production?",
                      details="Requested by Ana. 12 commits since the last deploy.")
ses.send_email(..., Message={"Subject": {"Data": mail.subject},
                             "Body": {"Html": {"Data": mail.html}, "Text": {"Data": mail.text}}})
```

The HTML part is written for mail readers, not browsers: layout tables and inline styles only
(Outlook's Word engine ignores most CSS), buttons that are a coloured table cell around a link
(the "bulletproof button"), no scripts, no images, no remote resources. Every link also appears
as text, in the HTML part and in the text part, for readers that show no buttons. Everything
the sender or the theme supplies is plain text, HTML-escaped where it is shown.

The words are the approver's (see the theme's `EmailWords`): what is being decided, what
pressing a button does, when the links expire, and that the e-mail should not be forwarded
(whoever holds a link can answer).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Final

from pydantic import BaseModel, Field, ValidationError

from ._approval import ConfirmPage
from ._contract import (
    CONTROL_CHARACTERS,
    MAX_CONFIRM_DETAILS_LENGTH,
    MAX_CONFIRM_TITLE_LENGTH,
    is_unicode_text,
)
from ._http_url import http_url_problem
from ._models import CreateUrlsResponse
from ._theme import PageTheme
from ._wording import (
    DATE,
    MONTHS,
    THEME_CONFIG,
    AccentColour,
    DateWord,
    LanguageTag,
    MonthWords,
    PlainText,
    Words,
    action_label,
)
from .errors import InvalidRequest

__all__ = ["ApprovalEmail", "EmailTheme", "EmailWords", "approval_email"]

#: Longest title, in characters: the confirm page's, so one text serves both.
MAX_TITLE_LENGTH: Final = MAX_CONFIRM_TITLE_LENGTH
#: Longest details text, in characters: the confirm page's.
MAX_DETAILS_LENGTH: Final = MAX_CONFIRM_DETAILS_LENGTH


class EmailWords(Words):
    """Every string of the approval e-mail (English by default), so a team can translate it.

    Strings are plain text, escaped where shown; ``{names}`` are filled in, and a word may use
    only the placeholders its description lists.
    """

    model_config = THEME_CONFIG
    #: The placeholders each word may use; a word not listed may use none.
    placeholders: ClassVar[Mapping[str, frozenset[str]]] = {
        "subject": frozenset({"title"}),
        "greeting": frozenset({"name"}),
        "expires": frozenset({"date"}),
        "date": frozenset({"day", "month", "year", "time"}),
    }

    subject: PlainText = "Approval needed: {title}"
    """The subject line; ``{title}`` (made one line)."""
    greeting: PlainText = "Hello {name},"
    """The first line when a recipient's name is given; ``{name}``."""
    sentence: PlainText = (
        "Choose your answer below. The page that opens tells you when it has been recorded."
    )
    """What to do, below the title and details."""
    expires: PlainText = "These links expire {date}."
    """Small print when the links expire; ``{date}``."""
    fallback: PlainText = "If a button doesn't work, copy its link into your browser:"
    """Above the links written out as text."""
    keep_private: PlainText = (
        "Anyone with these links can answer, so please don't forward this e-mail."
    )
    """Small print: the links are the approver's alone."""
    date: DateWord = DATE
    """How a date is written; ``{day}``, ``{month}`` (from `months`), ``{year}``, ``{time}``."""
    months: MonthWords = MONTHS
    """The twelve month names `date` uses."""


class EmailTheme(BaseModel):
    """The approval e-mail made yours: product name, accent colour, footer, language, words."""

    model_config = THEME_CONFIG

    product_name: PlainText | None = Field(default=None, min_length=1, max_length=100)
    """Shown above the card (and nowhere else): who is asking, e.g. ``"Acme Deploys"``."""
    accent_color: AccentColour = "#1f6feb"
    """The first button's colour and the links' colour, ``#rrggbb``; dark enough for white
    text on it and for it as text on white (contrast 4.5:1)."""
    footer: PlainText | None = Field(default=None, min_length=1, max_length=500)
    """Small print below the card (e.g. who to contact); line breaks are kept."""
    language: LanguageTag = "en"
    """The words' language, for ``<html lang>`` (screen readers pick their voice by it)."""
    words: EmailWords = Field(default_factory=EmailWords)
    """Every string of the e-mail."""

    @classmethod
    def from_page_theme(cls, theme: PageTheme, *, words: EmailWords | None = None) -> EmailTheme:
        """The e-mail in the look of the approver's pages (`PageTheme`).

        The same product name, accent colour, footer and language; the words are the
        e-mail's own: ``words``, or English.
        """
        return cls(
            product_name=theme.product_name,
            accent_color=theme.accent_color,
            footer=theme.footer,
            language=theme.language,
            words=EmailWords() if words is None else words,
        )


@dataclass(frozen=True)
class ApprovalEmail:
    """An approval e-mail, ready for any mail API: a subject, an HTML part and a text part.

    The parts hold the callback URLs, which are the approver's alone (in the signed mode a URL
    also shows the task token): they are left out of ``repr``, so a logged object shows none.
    """

    subject: str
    """One line, no line breaks."""
    html: str = field(repr=False)
    """The HTML part: a complete document, UTF-8, inline styles, no scripts or images."""
    text: str = field(repr=False)
    """The plain-text part, every link on a line of its own."""


@dataclass(frozen=True)
class _Content:
    """What both parts say, checked and worded once: each part only lays it out."""

    subject: str
    greeting: str | None
    title: str
    details: str
    buttons: list[tuple[str, str]]  # (label, URL), the first the prominent one
    expires: str | None


# --- building it ------------------------------------------------------------------------------

_FONT: Final = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_INK: Final = "#1f2328"  # body text: 15.8:1 on white
_MUTED: Final = "#57606a"  # small print: 6.4:1 on white, 5.8:1 on the page's grey
_PAGE: Final = "#f3f4f6"


def approval_email(
    urls: CreateUrlsResponse | Mapping[str, str],
    *,
    title: str,
    details: str = "",
    actions: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    recipient_name: str | None = None,
    expires_at: datetime | None = None,
    theme: EmailTheme | None = None,
) -> ApprovalEmail:
    """The approval e-mail for minted callback URLs: one button per action, every link as text.

    Args:
        urls: what `Minter.mint` (or the create-URLs function) answered, or its ``urls``: a
            mapping of action name to callback URL.
        title: what is being decided, e.g. ``"Deploy build 1234 to production?"`` (one line,
            1-200 characters: the confirm page's title, so both say the same).
        details: plain text below the title (up to 2,000 characters; line breaks kept).
        actions: the actions to offer, in order (the first is the prominent button); by
            default every URL, in the order given.
        labels: a button's words by action name; by default the name made readable
            (``"send_back"`` becomes ``"Send back"``).
        recipient_name: greets the approver by name when given.
        expires_at: when the links expire; by default the response's ``expiration``.
        theme: product name, accent colour, footer, language and every word.

    Raises:
        InvalidRequest: a blank, multi-line or overlong title, overlong details, text with
            control characters, an action without a URL, a URL that is not absolute
            http(s), no action at all, or a naive ``expires_at``.
    """
    theme = EmailTheme() if theme is None else theme
    words = theme.words
    if isinstance(urls, CreateUrlsResponse):
        if expires_at is None:
            expires_at = urls.expiration
        urls = urls.urls
    if expires_at is not None and expires_at.utcoffset() is None:
        raise InvalidRequest("The e-mail's expires_at must be timezone-aware (e.g. UTC).")
    title, details = _checked_context(title, details)
    if recipient_name is not None:
        recipient_name = _checked_line(recipient_name, "recipient_name", 200)
    buttons = _buttons(urls, actions, labels or {})

    subject = " ".join(words.subject.format(title=title).split())
    greeting = None if recipient_name is None else words.greeting.format(name=recipient_name)
    expires = (
        None if expires_at is None else words.expires.format(date=words.format_date(expires_at))
    )
    content = _Content(
        subject=subject,
        greeting=greeting,
        title=title,
        details=details,
        buttons=buttons,
        expires=expires,
    )
    return ApprovalEmail(subject=subject, html=_html(theme, content), text=_text(theme, content))


def _checked_line(value: str, name: str, limit: int) -> str:
    if not value.strip():
        raise InvalidRequest(f"The e-mail's {name} must not be blank.")
    if len(value) > limit:
        raise InvalidRequest(f"The e-mail's {name} is longer than {limit} characters.")
    if not is_unicode_text(value) or "\n" in value or CONTROL_CHARACTERS.search(value):
        raise InvalidRequest(
            f"The e-mail's {name} must be one line of text (no control characters or line breaks)."
        )
    return value


def _checked_context(title: str, details: str) -> tuple[str, str]:
    """The title and details checked by the confirm page's rules, or InvalidRequest.

    One rule for both: CRLF as LF, a one-line title, plain details, the same limits.
    """
    try:
        page = ConfirmPage(title=title, details=details)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        name = "details" if error["loc"] == ("details",) else "title"
        if error["type"] == "string_too_long":
            problem = f"is longer than {error['ctx']['max_length']} characters"
        elif error["type"] == "string_too_short":
            problem = "must not be blank"
        elif error["type"] == "string_unicode":  # a lone surrogate, refused before our rules
            problem = "must be plain text (valid Unicode)"
        else:
            problem = f"is refused: {error['msg']}"
        raise InvalidRequest(f"The e-mail's {name} {problem}.") from None
    return page.title, page.details


def _buttons(
    urls: Mapping[str, str], actions: Sequence[str] | None, labels: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(label, URL) per offered action, in order; every URL checked as absolute http(s)."""
    names = list(urls) if actions is None else list(actions)
    if not names:
        raise InvalidRequest("The e-mail needs at least one action to offer.")
    buttons = []
    for name in names:
        url = urls.get(name)
        if url is None:
            raise InvalidRequest(f"The e-mail offers the action {name!r}, which has no URL.")
        problem = http_url_problem(url, allow_query=True)
        if problem is not None:
            # The URL itself stays out of the message: it carries the sealed task.
            raise InvalidRequest(f"The URL of the action {name!r} {problem}.")
        label = labels.get(name) or action_label(name)
        buttons.append((_checked_line(label, f"label of {name!r}", 100), url))
    return buttons


def _e(text: str) -> str:
    """Plain text as HTML: escaped (quotes too), line breaks kept."""
    return html.escape(text, quote=True).replace("\n", "<br>\n")


def _html(theme: EmailTheme, content: _Content) -> str:
    words = theme.words
    subject, greeting, title = content.subject, content.greeting, content.title
    details, buttons, expires = content.details, content.buttons, content.expires
    accent = theme.accent_color
    text_style = f"font-family:{_FONT};color:{_INK}"
    paragraph = f"margin:0 0 16px;font-size:16px;line-height:24px;{text_style}"
    small = f"margin:0 0 8px;font-size:13px;line-height:20px;font-family:{_FONT};color:{_MUTED}"

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(theme.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="x-apple-disable-message-reformatting">',
        '<meta name="color-scheme" content="light">',
        f"<title>{_e(subject)}</title>",
        "</head>",
        f'<body style="margin:0;padding:0;background:{_PAGE}">',
        '<div role="main">',
        _table(f"background:{_PAGE}", width="100%"),
        '<tr><td align="center" style="padding:24px 12px 8px">',
    ]
    if theme.product_name is not None:
        parts.append(
            f'<p style="margin:0 0 12px;font-size:14px;line-height:20px;font-weight:bold;'
            f'{text_style}">{_e(theme.product_name)}</p>'
        )
    parts += [
        _table(
            f"max-width:560px;background:#ffffff;border-top:4px solid {accent};"
            "border-radius:8px;border-collapse:separate",
            width="100%",
        ),
        '<tr><td style="padding:24px 24px 8px;text-align:left">',
    ]
    if greeting is not None:
        parts.append(f'<p style="{paragraph}">{_e(greeting)}</p>')
    parts.append(
        f'<h1 style="margin:0 0 16px;font-size:22px;line-height:28px;font-weight:bold;'
        f'{text_style}">{_e(title)}</h1>'
    )
    if details:
        parts.append(f'<p style="{paragraph}">{_e(details)}</p>')
    parts += [
        f'<p style="{paragraph}">{_e(words.sentence)}</p>',
        "<div>",
        *(
            _button(label, url, accent, primary=index == 0)
            for index, (label, url) in enumerate(buttons)
        ),
        "</div>",
    ]
    if expires is not None:
        parts.append(f'<p style="{small};margin-top:8px">{_e(expires)}</p>')
    parts += [
        "</td></tr>",
        '<tr><td style="padding:8px 24px 24px;text-align:left">',
        f'<p style="{small}">{_e(words.fallback)}</p>',
    ]
    for label, url in buttons:
        parts.append(
            f'<p style="{small};word-break:break-all">{_e(label)}:<br>'
            f'<a href="{_e(url)}" style="color:{accent};text-decoration:underline">'
            f"{_e(url)}</a></p>"
        )
    parts += ["</td></tr>", "</table>", "</td></tr>", "</table>", "</div>"]

    # Small print below the card: its own landmark, as a page footer is.
    parts += [
        '<div role="contentinfo">',
        _table(f"background:{_PAGE}", width="100%"),
        '<tr><td align="center" style="padding:8px 12px 24px">',
        _table("max-width:560px", width="100%"),
        '<tr><td style="padding:0 24px;text-align:left">',
        f'<p style="{small}">{_e(words.keep_private)}</p>',
    ]
    if theme.footer is not None:
        parts.append(f'<p style="{small}">{_e(theme.footer)}</p>')
    parts += [
        "</td></tr>",
        "</table>",
        "</td></tr>",
        "</table>",
        "</div>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _table(style: str, *, width: str | None = None) -> str:
    """A layout table: ``role="presentation"`` so screen readers read it as plain text."""
    size = "" if width is None else f' width="{width}"'
    return (
        f'<table role="presentation"{size} cellpadding="0" cellspacing="0" border="0" '
        f'style="{style}">'
    )


def _button(label: str, url: str, accent: str, *, primary: bool) -> str:
    """A link that looks like a button in every reader, Outlook's Word engine included.

    The colour is the table cell's (``bgcolor`` and ``background``), which Outlook draws even
    where it ignores the link's padding; ``display:inline-block`` puts buttons side by side
    where there is room and one below the other on a phone (Outlook stacks them).
    """
    background, ink = (accent, "#ffffff") if primary else ("#ffffff", accent)
    return (
        _table(
            "display:inline-block;vertical-align:top;margin:0 12px 12px 0;border-collapse:separate"
        )
        + f'<tr><td align="center" bgcolor="{background}" style="background:{background};'
        f'border:2px solid {accent};border-radius:6px">'
        f'<a href="{_e(url)}" style="display:inline-block;padding:12px 28px;font-family:{_FONT};'
        f"font-size:16px;line-height:20px;font-weight:bold;color:{ink};text-decoration:none;"
        f'border-radius:6px">{_e(label)}</a></td></tr></table>'
    )


def _text(theme: EmailTheme, content: _Content) -> str:
    words = theme.words
    greeting, title, details = content.greeting, content.title, content.details
    buttons, expires = content.buttons, content.expires
    blocks = [] if greeting is None else [greeting]
    blocks.append(title)
    if details:
        blocks.append(details)
    blocks.append(words.sentence)
    blocks += [f"{label}:\n{url}" for label, url in buttons]
    small = [expires] if expires is not None else []
    small.append(words.keep_private)
    blocks.append("\n".join(small))
    if theme.footer is not None:
        blocks.append(f"-- \n{theme.footer}")
    return "\n\n".join(blocks) + "\n"
