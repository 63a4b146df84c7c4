"""What the approver is asked and may answer: the confirm page's context and the comment's rules.

An action's ``confirm`` may be a `ConfirmPage` instead of ``true``: a title and details the
sender seals into the URL (shown on the confirm page, escaped), and whether the approver may or
must add a comment. The rules about that comment live here, in one place:

* at the mint (`confirm_problem()`): a comment only on a success action whose output is a JSON
  object (the comment becomes its ``"comment"`` key) or on a failure action (it becomes the
  ``cause``); never on a heartbeat or a POST action;
* at the click (`normalise_comment()`, given what ``_outcome`` read from the POST body: a
  form, or a JSON object ``{"comment"}``): the comment as recorded (CRLF to LF, surrounding
  whitespace stripped, empty meaning none), refused with `InvalidComment` when required and
  missing, longer than the limit (in characters), holding control characters other than
  newline and tab, or not valid Unicode.

This module depends on no other model module, so that ``_models`` can use it for its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ._contract import (
    CONTROL_CHARACTERS,
    DEFAULT_COMMENT_MAX_LENGTH,
    MAX_COMMENT_LENGTH,
    MAX_CONFIRM_DETAILS_LENGTH,
    MAX_CONFIRM_TITLE_LENGTH,
    is_unicode_text,
)
from .errors import InvalidComment

__all__ = [
    "COMMENT_FIELD",
    "CommentRule",
    "ConfirmField",
    "ConfirmPage",
    "confirm_problem",
    "normalise_comment",
]

#: The form field (and JSON key) the approver's comment travels in.
COMMENT_FIELD: Final = "comment"

CommentRule = Literal["none", "optional", "required"]
"""Whether the confirm page asks for a comment: not at all, optionally, or always."""


def _control_free(value: str, *, newlines: bool) -> bool:
    """Whether ``value`` holds no control character (but newline and tab if ``newlines``)."""
    if not newlines and "\n" in value:
        return False
    return CONTROL_CHARACTERS.search(value) is None


class ConfirmPage(BaseModel):
    """What the confirm page shows the approver, sealed in the URL with the action.

    An action whose ``confirm`` is a `ConfirmPage` always asks first: a GET shows the page,
    and only its button (a POST) completes the task. ``title`` is the page's heading and
    ``details`` the text below it (plain text, line breaks kept); both are shown exactly as
    written, HTML-escaped, and carried in JSON answers. With ``comment`` ``"optional"`` or
    ``"required"``, the page has a comment box: on a success, the comment is added to the
    output object as ``"comment"``; on a failure, it is the ``cause`` (the sealed cause stays
    when the approver writes none).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    title: str = Field(min_length=1, max_length=MAX_CONFIRM_TITLE_LENGTH)
    """The page's heading, e.g. ``"Deploy build 1234 to production?"`` (1-200 characters, one
    line)."""
    details: str = Field(default="", max_length=MAX_CONFIRM_DETAILS_LENGTH)
    """Plain text below the heading (0-2,000 characters); line breaks are kept."""
    comment: CommentRule = "none"
    """Whether the approver may (``"optional"``) or must (``"required"``) add a comment."""
    comment_max_length: int = Field(
        default=DEFAULT_COMMENT_MAX_LENGTH, ge=1, le=MAX_COMMENT_LENGTH, strict=True
    )
    """The longest comment accepted, in characters (1-2,000; 500 by default)."""

    @field_validator("title", "details", mode="before")
    @classmethod
    def _one_kind_of_line_break(cls, value: Any) -> Any:
        # Line breaks as the approver's browser and a JSON file may spell them: one kind kept.
        return value.replace("\r\n", "\n") if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _plain_line(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("invalid_text", "the title must not be blank")
        if not is_unicode_text(value) or not _control_free(value, newlines=False):
            raise PydanticCustomError(
                "invalid_text",
                "the title must be one line of text (no control characters or line breaks)",
            )
        return value

    @field_validator("details")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        if not is_unicode_text(value) or not _control_free(value, newlines=True):
            raise PydanticCustomError(
                "invalid_text",
                "the details must be plain text (no control characters but newlines and tabs)",
            )
        return value

    @property
    def takes_comment(self) -> bool:
        """Whether the page has a comment box."""
        return self.comment != "none"


def _confirm_kind(value: Any) -> str:
    return "page" if isinstance(value, Mapping | ConfirmPage) else "flag"


ConfirmField: TypeAlias = (
    Annotated[
        Annotated[StrictBool, Tag("flag")] | Annotated[ConfirmPage, Tag("page")],
        Discriminator(_confirm_kind),
    ]
    | None
)
"""An action's ``confirm``: ``true``/``false``, a `ConfirmPage`, or ``None`` (handler default).

Discriminated, so that a mistake in the object is reported as such, not also as "input should
be a boolean".
"""


def confirm_problem(confirm: object, action_type: str, output: object) -> str | None:
    """Why an action cannot take its ``confirm``'s comment, or ``None`` when it can.

    Args:
        confirm: the action's ``confirm`` (a bool, ``None`` or a `ConfirmPage`).
        action_type: ``"success"``, ``"failure"``, ``"heartbeat"`` or ``"post"``.
        output: a success action's output (ignored for the other types).
    """
    if not isinstance(confirm, ConfirmPage) or not confirm.takes_comment:
        return None
    if action_type in ("heartbeat", "post"):
        return f"a {action_type} action cannot take a comment (confirm.comment must be 'none')"
    if action_type == "success" and not isinstance(output, dict):
        return (
            "a comment is added to the output object as 'comment': a success action that "
            "takes one needs an output that is a JSON object"
        )
    return None


# --- the click --------------------------------------------------------------------------------


def normalise_comment(text: str | None, page: ConfirmPage) -> str | None:
    """``text`` as recorded: CRLF to LF, surrounding whitespace stripped, empty meaning none.

    Raises:
        InvalidComment: required and missing, longer than ``comment_max_length`` characters,
            holding control characters other than newline and tab, or not valid Unicode.
    """
    if text is not None:
        if not is_unicode_text(text):
            raise InvalidComment(reason="invalid_text")
        text = text.replace("\r\n", "\n").strip() or None
    if text is None:
        if page.comment == "required":
            raise InvalidComment(reason="missing")
        return None
    if CONTROL_CHARACTERS.search(text) is not None:
        raise InvalidComment(reason="invalid_text", shown=CONTROL_CHARACTERS.sub("", text))
    # Counted in characters (code points); a combining sequence is as many as it has.
    if len(text) > page.comment_max_length:
        raise InvalidComment(
            f"The comment is {len(text):,} characters long; at most "
            f"{page.comment_max_length:,} are accepted.",
            reason="too_long",
            shown=text,
        )
    return text
