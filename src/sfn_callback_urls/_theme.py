"""The approver's pages made yours: product name, logo, accent colour, footer and every word.

A `PageTheme` is set once, on `CallbackHandler` (``page_theme=``) or in the ready app's
environment (``SFN_CALLBACK_URLS_PAGE_THEME``, the same fields as JSON). Every string the
built-in pages show is a field of `PageWords`, so a team can translate them all; the English
defaults are the starting points of the approver's pages. Strings are plain text (escaped where
shown) with ``{placeholders}`` that are checked when the theme is made: a word may use only the
placeholders listed in its description.

The theme never weakens the pages' ``Content-Security-Policy``: the logo is the one image the
policy allows, by its exact URL, and the accent colour is a hex colour with enough contrast
for white text on it (WCAG AA, 4.5:1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Final

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from ._http_url import checked_http_url
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
    contrast_ratio,
)

__all__ = ["DEFAULT_THEME", "PageTheme", "PageWords", "contrast_ratio"]


class PageWords(Words):
    """Every string of the approver's pages (English by default); ``{names}`` are filled in.

    ``{action}`` is the action's name made readable (``"send_back"`` becomes ``"Send back"``).
    """

    model_config = THEME_CONFIG
    #: The placeholders each word may use; a word not listed may use none.
    placeholders: ClassVar[Mapping[str, frozenset[str]]] = {
        "confirm_heading": frozenset({"action"}),
        "choose": frozenset({"button"}),
        "comment_hint": frozenset({"limit"}),
        "comment_too_long": frozenset({"limit"}),
        "expires": frozenset({"date"}),
        "expired_at": frozenset({"date"}),
        "done_heading": frozenset({"action"}),
        "reference": frozenset({"reference"}),
        "code": frozenset({"code"}),
        "date": frozenset({"day", "month", "year", "time"}),
    }

    confirm_heading: PlainText = "{action} this request?"
    """Confirm page heading when the link carries no title; ``{action}``."""
    confirm_sentence: PlainText = "Your answer is recorded only when you press the button."
    """Confirm page sentence when the link carries no title."""
    choose: PlainText = "Choose {button} to record your answer."
    """Confirm page sentence below the sender's details; ``{button}`` is the button's label."""
    comment_optional: PlainText = "Comment (optional)"
    """Label of an optional comment box."""
    comment_required: PlainText = "Reason (required)"
    """Label of a required comment box."""
    comment_hint: PlainText = "Up to {limit} characters. The requester will see this."
    """Hint below the comment box; ``{limit}``."""
    comment_missing: PlainText = "Please add a reason."
    """The comment box's error when a required comment is missing."""
    comment_too_long: PlainText = "Please keep it to {limit} characters or fewer."
    """The comment box's error when the comment is too long; ``{limit}``."""
    comment_invalid: PlainText = "Please use ordinary text only: remove any special characters."
    """The comment box's error for control characters or text that is not valid Unicode."""
    expires: PlainText = "Link expires {date}"
    """Small print on the confirm page; ``{date}``."""
    done_heading: PlainText = "Answer recorded: {action}"
    """Done page heading for an action `done_headings` does not name; ``{action}``."""
    done_headings: dict[str, PlainText] = Field(
        default_factory=lambda: {
            "accept": "Accepted",
            "acknowledge": "Acknowledged",
            "allow": "Allowed",
            "approve": "Approved",
            "cancel": "Cancelled",
            "confirm": "Confirmed",
            "decline": "Declined",
            "deny": "Denied",
            "reject": "Rejected",
            "refuse": "Refused",
            "yes": "Yes",
            "no": "No",
        }
    )
    """Done page heading by action name (compared in lower case): the name in the past tense."""
    done_sentence: PlainText = "Your answer was recorded. You can close this page."
    """Done page sentence."""
    your_comment: PlainText = "Your comment"
    """Label of the approver's own comment on the done page."""
    already_heading: PlainText = "Already answered"
    """Heading when the request was already answered or closed."""
    already_sentence: PlainText = (
        "This request was already answered or has been closed. Nothing was changed."
    )
    """Sentence when the request was already answered or closed."""
    expired_heading: PlainText = "This link has expired"
    """Heading of the expired link page."""
    expired_sentence: PlainText = "Ask the person who sent it for a new one."
    """Sentence of the expired link page."""
    expired_at: PlainText = "Expired {date}"
    """Small print of the expired link page; ``{date}``."""
    invalid_heading: PlainText = "This link doesn't work"
    """Heading for a link that was cut short, changed or is not ours."""
    invalid_sentence: PlainText = (
        "It may have been cut short or changed. Open it again from the original message, "
        "or ask for a new one."
    )
    """Sentence for a link that was cut short, changed or is not ours."""
    unusable_heading: PlainText = "This link can't be used here"
    """Heading for any other refusal (a setting of this site, a malformed request)."""
    unusable_sentence: PlainText = (
        "Nothing was recorded. If you need help, send the details below to the person who "
        "sent you the link."
    )
    """Sentence for any other refusal."""
    unavailable_heading: PlainText = "We couldn't record your answer yet"
    """Heading when the workflow service is slow or busy (503)."""
    unavailable_sentence: PlainText = "Please try again in a minute. The link still works."
    """Sentence when the workflow service is slow or busy (503)."""
    internal_heading: PlainText = "Something went wrong on our side"
    """Heading of a server error (500)."""
    internal_sentence: PlainText = (
        "Your answer was not recorded. Please try again later; if it keeps happening, send "
        "the reference below to the requester."
    )
    """Sentence of a server error (500)."""
    reference: PlainText = "Reference: {reference}"
    """Small print: the reference for support; ``{reference}``."""
    code: PlainText = "Code: {code}"
    """Small print: the error's code for support; ``{code}``."""
    date: DateWord = DATE
    """How a date is written; ``{day}``, ``{month}`` (from `months`), ``{year}``, ``{time}``."""
    months: MonthWords = MONTHS
    """The twelve month names `date` uses."""

    def format(self, name: str, **values: str) -> str:
        """The word ``name`` with its placeholders filled (values as given: no escaping)."""
        template: str = getattr(self, name)
        return template.format(**values)


def _check_logo(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        url = checked_http_url(value, allow_query=True)
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid_url", "the URL {problem}", {"problem": str(exc)}
        ) from None
    # The URL is written into the Content-Security-Policy: nothing that could end its source.
    if not url.lower().startswith("https://") or any(ch in url for ch in ";,'\""):
        raise PydanticCustomError(
            "invalid_url", "the logo URL must be https:// and hold no ; , ' or \""
        )
    return url


class PageTheme(BaseModel):
    """The look and words of the approver's pages (HTML answers), set once per handler.

    Every field is optional: ``PageTheme()`` is the built-in look, in English.
    """

    model_config = THEME_CONFIG

    product_name: PlainText | None = Field(default=None, min_length=1, max_length=80)
    """Shown above the card and in the window title (e.g. ``"Acme Deploys"``)."""
    logo_url: Annotated[str | None, AfterValidator(_check_logo)] = None
    """An https URL of the logo shown above the card (its ``alt`` is the product name). The
    pages' ``Content-Security-Policy`` allows this one image URL and nothing else."""
    accent_color: AccentColour = "#1f6feb"
    """The button's colour, ``#rrggbb``; dark enough for white text (contrast 4.5:1)."""
    footer: PlainText | None = Field(default=None, min_length=1, max_length=500)
    """Small text below the card (e.g. who to contact); line breaks are kept."""
    language: LanguageTag = "en"
    """The pages' language (``<html lang>``): set it with translated `words`."""
    words: PageWords = Field(default_factory=PageWords)
    """Every string the pages show."""


DEFAULT_THEME: Final = PageTheme()
"""The built-in look, in English."""
