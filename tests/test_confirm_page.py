"""The confirm page's context and the page theme: their rules, sealing, and the pages they make.

The rules are checked where a user meets them: ``parse_action`` / the create-URLs contract for
``confirm``, `PageTheme` for the theme, and `CallbackHandler` for the pages.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import FakeStepFunctions  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    ConfirmPage,
    FailureAction,
    LocalKey,
    Minter,
    PageTheme,
    PageWords,
    SuccessAction,
    parse_action,
)
from sfn_callback_urls.errors import InvalidRequest
from sfn_callback_urls.testing import failure_actions

KEY = LocalKey(bytes(range(32)), key_id=b"cp")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
HTML = {"Accept": "text/html"}


def action(**confirm: Any) -> dict[str, Any]:
    """A success action with the given confirm page."""
    return {"name": "approve", "type": "success", "output": {}, "confirm": confirm}


# --- confirm: the contract ------------------------------------------------------------------------


def test_a_confirm_object_is_a_confirm_page_with_defaults() -> None:
    """``{"title"}`` alone: no details, no comment box, a 500-character limit."""
    parsed = parse_action(action(title="Deploy?"))
    assert parsed.confirm == ConfirmPage(title="Deploy?")
    assert parsed.confirm.details == ""
    assert parsed.confirm.comment == "none"
    assert parsed.confirm.comment_max_length == 500


@pytest.mark.parametrize(
    ("confirm", "problem"),
    [
        ({"title": ""}, "confirm.title"),
        ({"title": "   "}, "the title must not be blank"),
        ({"title": "x" * 201}, "confirm.title"),
        ({"title": "two\nlines"}, "one line of text"),
        ({"title": "bell\x07"}, "one line of text"),
        ({"title": "lone \ud800"}, "confirm.title"),
        ({"title": "ok", "details": "x" * 2001}, "confirm.details"),
        ({"title": "ok", "details": "nul\x00"}, "plain text"),
        ({"title": "ok", "comment": "maybe"}, "confirm.comment"),
        ({"title": "ok", "comment_max_length": 0}, "confirm.comment_max_length"),
        ({"title": "ok", "comment_max_length": 2001}, "confirm.comment_max_length"),
        ({"title": "ok", "comment_max_length": "5"}, "confirm.comment_max_length"),
        ({"title": "ok", "colour": "red"}, "confirm.colour"),
    ],
)
def test_a_bad_confirm_page_is_refused_naming_the_field(
    confirm: dict[str, Any], problem: str
) -> None:
    """Each limit of the confirm object is refused with its field in the message."""
    with pytest.raises(InvalidRequest) as refused:
        parse_action(action(**confirm))
    assert problem in refused.value.message
    assert "flag" not in refused.value.message  # the object's own error, not the boolean's


@pytest.mark.parametrize("value", [1, "true", None, True, False])
def test_confirm_flags_are_as_before(value: Any) -> None:
    """``true``/``false``/``null`` keep their meaning; other scalars are refused."""
    data = {"name": "a", "type": "success", "output": {}, "confirm": value}
    if isinstance(value, bool) or value is None:
        assert parse_action(data).confirm is value
    else:
        with pytest.raises(InvalidRequest, match="confirm: Input should be a valid boolean"):
            parse_action(data)


def test_details_keep_line_breaks_and_crlf_becomes_lf() -> None:
    """Details are plain text with line breaks (CRLF normalised) and tabs."""
    page = ConfirmPage(title="t", details="a\r\nb\n\tc")
    assert page.details == "a\nb\n\tc"


def test_the_contract_schema_documents_confirm() -> None:
    """The JSON Schema of an action says confirm is a boolean or a confirm page."""
    schema = SuccessAction.model_json_schema()
    assert schema["$defs"]["ConfirmPage"]["properties"]["comment"]["enum"] == [
        "none",
        "optional",
        "required",
    ]


# --- sealed ---------------------------------------------------------------------------------------


def test_a_confirm_page_is_sealed_and_opens_exactly() -> None:
    """The confirm page travels in the blob: the handler's page shows what the sender sealed."""
    codec = Codec(KEY)
    page = ConfirmPage(
        title="Pay €1,200 to <ACME>?", details="Invoice 7\n\tdue 5 Dec", comment="required"
    )
    minted = Minter(codec, "https://x.example").mint(
        "t" * 40, [FailureAction(name="reject", confirm=page)], now=NOW
    )
    blob = minted.urls["reject"].split("data=", 1)[1]
    assert codec.open(blob, now=NOW).action.confirm == page
    assert "ACME" not in minted.urls["reject"]  # encrypted, not just encoded


@given(failure_actions())
def test_every_failure_action_with_a_page_roundtrips(action: FailureAction) -> None:
    """Any confirm page (comment rules included) opens to exactly what was sealed."""
    codec = Codec(KEY)
    minted = Minter(codec, "https://x.example").mint("t" * 40, [action], now=NOW)
    blob = minted.urls[action.name].split("data=", 1)[1]
    assert codec.open(blob, now=NOW).action == action


# --- the theme ------------------------------------------------------------------------------------


def test_every_word_can_be_replaced() -> None:
    """Every string of the pages is a field of PageWords: a translated set renders no English."""
    german = {
        name: f"W{index}"
        for index, name in enumerate(PageWords.model_fields)
        if name not in ("done_headings", "months")
    }
    for name, needed in {
        "confirm_heading": "{action}",
        "choose": "{button}",
        "comment_hint": "{limit}",
        "comment_too_long": "{limit}",
        "expires": "{date}",
        "expired_at": "{date}",
        "done_heading": "{action}",
        "reference": "{reference}",
        "code": "{code}",
        "date": "{day}.{month}.{year} {time}",
    }.items():
        german[name] = f"{german[name]} {needed}"
    words = PageWords.model_validate({**german, "done_headings": {}, "months": ["M"] * 12})
    codec = Codec(KEY)
    handler = CallbackHandler(
        codec,
        stepfunctions_client=FakeStepFunctions(),
        page_theme=PageTheme(words=words, language="de"),
        clock=lambda: NOW,
    )
    minted = Minter(codec, "https://x.example").mint(
        "t" * 40,
        [
            SuccessAction(name="approve", output={}, confirm=True),
            FailureAction(name="reject", confirm=ConfirmPage(title="T", comment="optional")),
        ],
        expires_at=datetime(2027, 1, 1, tzinfo=timezone.utc),
        now=NOW,
    )
    pages = []
    for name in ("approve", "reject"):
        query = minted.urls[name].split("?", 1)[1]
        pages.append(handler.handle(CallbackRequest("GET", query, HTML)).body.decode())
        pages.append(handler.handle(CallbackRequest("POST", query, HTML)).body.decode())
    pages.append(handler.handle(CallbackRequest("GET", "data=broken", HTML)).body.decode())
    shown = "".join(pages)
    for english in ("Approve this", "record", "Reference", "Code", "Comment", "Jan", "Done"):
        assert english not in shown
    assert "<h1>W0 Approve</h1>" in shown


@pytest.mark.parametrize(
    "theme",
    [
        {"accent_color": "blue"},
        {"accent_color": "#fff"},
        {"accent_color": "#1f6feb;background:url(x)"},
        {"logo_url": "http://cdn.example.com/logo.png"},
        {"logo_url": "https://cdn.example.com/a.png,https://evil.example"},
        {"language": 'en"><script>'},
        {"product_name": "a\x00b"},
        {"words": {"code": "{code.__class__}"}},
        {"words": {"code": "{code!r}"}},
        {"words": {"choose": "press {"}},
        {"words": {"months": ["Jan"]}},
        {"words": {"unknown": "x"}},
    ],
)
def test_a_theme_cannot_weaken_the_page(theme: dict[str, Any]) -> None:
    """Colours, URLs, languages and placeholders that could break out of their place are refused."""
    with pytest.raises(ValueError, match="validation error for PageTheme"):
        PageTheme.model_validate(theme)


def _approve_query(codec: Codec) -> str:
    """The query string of an approve link that asks first (``confirm=True``)."""
    return (
        Minter(codec, "https://x.example")
        .mint("t" * 40, [SuccessAction(name="approve", output={}, confirm=True)], now=NOW)
        .urls["approve"]
        .split("?", 1)[1]
    )


def test_a_logo_is_the_one_image_the_policy_allows() -> None:
    """With a logo, the CSP adds img-src for its exact URL; without, no image at all."""
    codec = Codec(KEY)
    query = _approve_query(codec)
    plain = CallbackHandler(codec, clock=lambda: NOW).handle(CallbackRequest("GET", query, HTML))
    assert "img-src" not in plain.headers["Content-Security-Policy"]
    assert "<img" not in plain.body.decode()
    themed = CallbackHandler(
        codec,
        clock=lambda: NOW,
        page_theme=PageTheme(logo_url="https://cdn.example.com/l.png", product_name="Acme"),
    ).handle(CallbackRequest("GET", query, HTML))
    csp = themed.headers["Content-Security-Policy"]
    assert csp.split("; ")[-1] == "img-src https://cdn.example.com/l.png"
    assert "default-src 'none'" in csp
    body = themed.body.decode()
    assert '<header><img src="https://cdn.example.com/l.png" alt="Acme"></header>' in body
    assert "<title>Approve this request? \u00b7 Acme</title>" in body


def test_theme_json_is_the_environment_format() -> None:
    """The environment's JSON and the Python model are one format."""
    theme = PageTheme(product_name="Acme", words=PageWords(done_sentence="Danke."))
    assert PageTheme.model_validate_json(json.dumps(theme.model_dump(mode="json"))) == theme


# --- the already-answered check ---------------------------------------------------------------


def _check_handler(client: FakeStepFunctions) -> tuple[CallbackHandler, str]:
    codec = Codec(KEY)
    query = _approve_query(codec)
    handler = CallbackHandler(
        codec, stepfunctions_client=client, check_task_before_confirm=True, clock=lambda: NOW
    )
    return handler, query


def test_a_failed_check_leaves_the_decision_to_the_button(caplog: pytest.LogCaptureFixture) -> None:
    """A throttled heartbeat: the form is shown (its POST gets the real answer); logged."""
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "SendTaskHeartbeat")
    handler, query = _check_handler(FakeStepFunctions(throttled))
    with caplog.at_level("INFO", logger="sfn_callback_urls.handler"):
        page = handler.handle(CallbackRequest("GET", query, HTML))
    assert page.status == 200
    assert b"<form" in page.body
    (record,) = caplog.records
    assert (record.probe, record.aws_code) == ("failed", "ThrottlingException")  # type: ignore[attr-defined]


def test_head_and_post_never_check() -> None:
    """Only a GET that would show the page checks; HEAD touches nothing, POST completes."""
    client = FakeStepFunctions()
    handler, query = _check_handler(client)
    assert handler.handle(CallbackRequest("HEAD", query, HTML)).status == 200
    assert client.calls == []
    assert handler.handle(CallbackRequest("GET", query, HTML)).status == 200
    assert [kind for kind, _ in client.calls] == ["heartbeat"]
    assert handler.handle(CallbackRequest("POST", query, HTML)).status == 200
    assert [kind for kind, _ in client.calls] == ["heartbeat", "success"]


# --- the comment, for any text ---------------------------------------------------------------


_COMMENT_CODEC = Codec(KEY)
_COMMENT_QUERY = (
    Minter(_COMMENT_CODEC, "https://x.example")
    .mint(
        "t" * 40,
        [
            SuccessAction(
                name="approve",
                output={"n": 1},
                confirm=ConfirmPage(title="Go?", comment="required", comment_max_length=30),
            )
        ],
        now=NOW,
    )
    .urls["approve"]
    .split("?", 1)[1]
)


@given(st.text(max_size=40), st.sampled_from(["form", "json"]))
def test_any_comment_is_recorded_as_normalised_or_refused_with_nothing_sent(
    text: str, encoding: str
) -> None:
    """Any text: recorded exactly as normalised, or a 400 with no completion; never logged."""
    import logging
    from urllib.parse import quote

    calls: list[Any] = []
    text = "ZQX" + text  # a marker no log line holds by chance
    if encoding == "form":
        body = ("comment=" + quote(text, errors="surrogatepass")).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = json.dumps({"comment": text}).encode()
        content_type = "application/json"
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.comment")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Keep())
    logger.propagate = False
    handler = CallbackHandler(
        _COMMENT_CODEC, complete=calls.append, clock=lambda: NOW, logger=logger
    )
    headers = {"Accept": "text/html", "Content-Type": content_type}
    answer = handler.handle(CallbackRequest("POST", _COMMENT_QUERY, headers, body))
    expected = text.replace("\r\n", "\n").strip()
    plain = all(ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in expected)
    unicode_ok = not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
    if expected and plain and unicode_ok and len(expected) <= 30:
        assert answer.status == 200
        assert [call.output for call in calls] == [{"n": 1, "comment": expected}]
    else:
        assert answer.status == 400
        assert calls == []
    assert records
    for record in records:
        assert "ZQX" not in record.getMessage()
        assert "ZQX" not in repr(vars(record))
