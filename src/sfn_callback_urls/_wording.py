"""The rules the approver's pages and the approval e-mail share: text, words, dates, colour, labels.

`PageTheme` (the pages) and `EmailTheme` (the e-mail) are made by different people at different
times, but what they may hold is one set of rules, kept here: plain text, the placeholders a
translatable word may use, how a date is written, an accent colour that white text is readable
on, a language tag, and an action's name as a button says it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ._contract import CONTROL_CHARACTERS, is_unicode_text

__all__ = [
    "MONTHS",
    "AccentColour",
    "DateWord",
    "LanguageTag",
    "MonthWords",
    "PlainText",
    "Words",
    "action_label",
    "contrast_ratio",
]

#: How a theme (and its words) is made: frozen, no unknown field, no input repeated in errors.
THEME_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


# --- text ---------------------------------------------------------------------------------------


def _plain(value: str) -> str:
    if not is_unicode_text(value) or CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError(
            "invalid_text", "must be plain text (no control characters but newlines and tabs)"
        )
    return value


PlainText = Annotated[str, AfterValidator(_plain)]
"""Text a person reads: valid Unicode, no control characters but newline and tab."""


def action_label(name: str) -> str:
    """An action's name as a button says it: ``"send_back"`` becomes ``"Send back"``."""
    words = " ".join(name.replace("_", " ").split())
    return words[:1].upper() + words[1:]


# --- translatable words -------------------------------------------------------------------------


def _check_placeholders(text: str, allowed: frozenset[str]) -> None:
    """Refuse a placeholder not in ``allowed``, and any attribute, index, format or conversion."""
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError:
        raise PydanticCustomError(
            "invalid_placeholder", "has an unmatched '{' or '}' (write '{{' or '}}' for one)"
        ) from None
    for name, spec, conversion in fields:
        if name not in allowed or spec or conversion:
            names = ", ".join(f"{{{item}}}" for item in sorted(allowed)) or "none"
            raise PydanticCustomError(
                "invalid_placeholder",
                "uses the placeholder {placeholder}; this word may use: {names}",
                # Cut short: the word is the theme author's, but an error may reach a log.
                {"placeholder": "{" + name[:40] + "}", "names": names},
            )


# --- dates --------------------------------------------------------------------------------------

#: The English month names a date word's ``{month}`` is taken from by default.
MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: How a date is written by default; the date word's placeholders.
DATE: Final = "{day} {month} {year}, {time} UTC"


DateWord = PlainText
"""How a date is written; ``{day}``, ``{month}`` (from ``months``), ``{year}``, ``{time}``."""
MonthWords = Annotated[tuple[PlainText, ...], Field(min_length=12, max_length=12)]
"""The twelve month names a date word uses."""


class Words(BaseModel):
    """What every set of translatable words has: checked placeholders and a date format.

    A subclass declares ``date: DateWord = DATE`` and ``months: MonthWords = MONTHS`` and lists,
    in ``placeholders``, which ``{names}`` each of its words may use; a word
    not listed may use none. A word is a string, a tuple of strings or a mapping to strings.
    """

    model_config = THEME_CONFIG
    placeholders: ClassVar[Mapping[str, frozenset[str]]] = {
        "date": frozenset({"day", "month", "year", "time"})
    }

    if TYPE_CHECKING:
        # Fields of each subclass (as `DateWord` and `MonthWords`), declared there so that they
        # come last, after the subclass's own words, in the order its documentation lists them.
        date: str
        months: tuple[str, ...]

    @field_validator("*", mode="after")
    @classmethod
    def _known_placeholders(cls, value: Any, info: Any) -> Any:
        allowed = cls.placeholders.get(info.field_name, frozenset())
        if isinstance(value, Mapping):
            texts: list[object] = list(value.values())
        elif isinstance(value, tuple):
            texts = list(value)
        else:
            texts = [value]
        for text in texts:
            if isinstance(text, str):
                _check_placeholders(text, allowed)
        return value

    def format_date(self, value: datetime) -> str:
        """``value`` in the approver's terms, in UTC: ``5 Dec 2026, 14:00 UTC``.

        A naive ``value`` is taken as UTC already.
        """
        if value.utcoffset() is not None:
            value = value.astimezone(timezone.utc)
        return self.date.format(
            day=str(value.day),
            month=self.months[value.month - 1],
            year=str(value.year),
            time=f"{value:%H:%M}",
        )


# --- colour -------------------------------------------------------------------------------------

_HEX_COLOUR: Final = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
#: WCAG AA for normal text: a button's white label on the accent colour.
_MIN_CONTRAST: Final = 4.5


def _rgb(colour: str) -> tuple[int, int, int]:
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(value) for value in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` (or ``#rgb``) colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def darker(colour: str, amount: float = 0.2) -> str:
    """``colour`` mixed with black by ``amount`` (a button's hover shade)."""
    r, g, b = (round(value * (1 - amount)) for value in _rgb(colour))
    return f"#{r:02x}{g:02x}{b:02x}"


def _check_accent(value: str) -> str:
    if not _HEX_COLOUR.fullmatch(value):
        raise PydanticCustomError("invalid_colour", "must be a hex colour like #1f6feb")
    ratio = contrast_ratio(value, "#ffffff")
    if ratio < _MIN_CONTRAST:
        raise PydanticCustomError(
            "invalid_colour",
            "is too light: white text on it has a contrast of {ratio}:1, at least 4.5:1 is "
            "needed to be readable (WCAG AA)",
            {"ratio": f"{ratio:.2f}"},
        )
    # Six digits: mail readers' legacy ``bgcolor`` parsing is surer of them than of three.
    return "#{:02x}{:02x}{:02x}".format(*_rgb(value))


AccentColour = Annotated[str, AfterValidator(_check_accent)]
"""A hex colour white text is readable on (``#rrggbb`` or ``#rgb``; kept as ``#rrggbb``)."""


# --- language -----------------------------------------------------------------------------------

#: A language tag for ``<html lang>`` (BCP 47's shape, loosely: ``en``, ``pt-BR``, ``zh-Hant``).
_LANGUAGE: Final = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


def _check_language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise PydanticCustomError("invalid_language", "must be a language tag like en or pt-BR")
    return value


LanguageTag = Annotated[str, AfterValidator(_check_language)]
"""The words' language for ``<html lang>``: screen readers pick their voice by it."""
