"""The approval e-mail (`approval_email`): escaped context, every link twice, nothing remote."""

from __future__ import annotations

import email.policy
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from pydantic import ValidationError

from helpers import synthetic_token  # tests/ is on sys.path
from sfn_callback_urls import (
    ApprovalEmail,
    Codec,
    ConfirmPage,
    EmailTheme,
    EmailWords,
    FailureAction,
    InvalidRequest,
    LocalKey,
    Minter,
    PageTheme,
    SuccessAction,
    approval_email,
)

BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
NOW = datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc)
HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' <img src=x onerror=alert(2)>"


def mint() -> dict[str, str]:
    """Real callback URLs for a real-shaped token: approve (success) and reject (failure)."""
    minter = Minter(Codec(LocalKey.generate()), base_url=BASE_URL)
    response = minter.mint(
        synthetic_token(),
        [
            SuccessAction(name="approve", output={"ok": True}),
            FailureAction(name="reject", error="rejected", cause="no"),
        ],
        expires_in=timedelta(days=7),
        now=NOW,
    )
    return dict(response.urls)


class Page(HTMLParser):
    """What a mail reader sees: links (href and text), tags, scripts, images, visible text."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note the tag and its attributes; start collecting a link's text."""
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        """End a link."""
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._link_text)))
            self._href = None

    def handle_data(self, data: str) -> None:
        """Collect text (and a link's text)."""
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)

    @property
    def visible(self) -> str:
        """The text, whitespace collapsed as a reader shows it."""
        return " ".join("".join(self.text).split())


def test_every_link_is_a_button_and_text_in_html_and_on_its_own_line_in_text() -> None:
    """Each URL is a button (its label), a link written out in the HTML part, and a text line."""
    urls = mint()
    mail = approval_email(urls, title="Deploy build 1234 to production?")
    page = Page(mail.html)
    for name, label in (("approve", "Approve"), ("reject", "Reject")):
        assert (urls[name], label) in page.links
        assert (urls[name], urls[name]) in page.links
        assert f"{label}:\n{urls[name]}\n" in mail.text
    assert len(page.links) == 4


def test_a_create_urls_response_gives_its_urls_and_expiry() -> None:
    """Given Minter.mint's response, the e-mail has its URLs and says when they expire."""
    minter = Minter(Codec(LocalKey.generate()), base_url=BASE_URL)
    response = minter.mint(
        "token", [SuccessAction(name="send_back", output={})], expires_in=timedelta(days=7), now=NOW
    )
    mail = approval_email(response, title="Expense claim 77")
    assert (response.urls["send_back"], "Send back") in Page(mail.html).links
    assert "These links expire 10 Dec 2026, 14:00 UTC." in Page(mail.html).visible
    assert "These links expire 10 Dec 2026, 14:00 UTC." in mail.text


def test_hostile_title_details_names_and_labels_are_escaped() -> None:
    """Markup in the title, details, recipient, label or action name is shown as text."""
    urls = {"approve": f"{BASE_URL}/respond?action=approve&data=x", HOSTILE: f"{BASE_URL}/x"}
    mail = approval_email(
        urls,
        title=HOSTILE,
        details=f"line one\n{HOSTILE}",
        recipient_name=HOSTILE,
        labels={"approve": HOSTILE},
        theme=EmailTheme(product_name=HOSTILE, footer=HOSTILE),
    )
    page = Page(mail.html)
    assert "script" not in page.tags
    assert "img" not in page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    # Shown exactly as written: title (h1 and <title>), details, greeting, label, name, footer.
    assert page.visible.count(HOSTILE) >= 7
    assert HOSTILE in mail.subject
    assert HOSTILE in mail.text


def test_urls_are_escaped_in_attributes() -> None:
    """A quote or markup in a URL cannot leave the href attribute."""
    url = f'{BASE_URL}/respond?a="><script>alert(1)</script>&b=<x>'
    mail = approval_email({"approve": url}, title="Title")
    page = Page(mail.html)
    assert "script" not in page.tags
    assert (url, "Approve") in page.links
    assert "<script>" not in mail.html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/respond?data=x",
        "https://example.com/a b",
        "https://example.com/\nrespond",
    ],
)
def test_a_url_that_is_not_absolute_http_is_refused(url: str) -> None:
    """Only absolute http(s) URLs become links; the refusal does not repeat the URL."""
    with pytest.raises(InvalidRequest) as refused:
        approval_email({"approve": url}, title="Title")
    assert refused.value.code == "InvalidRequest"
    assert url not in refused.value.message


def test_no_script_no_image_no_remote_resource() -> None:
    """The HTML part loads nothing: no script, image, stylesheet, frame, form or src/srcset."""
    mail = approval_email(mint(), title="Title", theme=EmailTheme(product_name="Acme"))
    page = Page(mail.html)
    forbidden = {"script", "img", "link", "iframe", "object", "embed", "form", "style", "video"}
    assert not forbidden & set(page.tags)
    assert not {"src", "srcset", "background"} & {name for name, _ in page.attributes}
    assert "url(" not in mail.html
    assert "@import" not in mail.html


def test_buttons_are_table_cells_with_inline_styles() -> None:
    """Each button is a coloured table cell (bgcolor, which Outlook draws) around its link."""
    urls = mint()
    mail = approval_email(urls, title="Title", theme=EmailTheme(accent_color="#0B6E4F"))
    assert mail.html.count('bgcolor="#0b6e4f"') == 1  # the first button is filled
    assert mail.html.count('bgcolor="#ffffff"') == 1  # the others are outlined
    assert 'role="presentation"' in mail.html
    assert "class=" not in mail.html


def test_plain_words_and_no_jargon() -> None:
    """The approver reads what is decided and what to do; never a token, payload or callback."""
    urls = mint()
    mail = approval_email(urls, title="Deploy build 1234?", details="Requested by Ana.")
    for part in (Page(mail.html).visible, mail.text):
        for url in urls.values():
            part = part.replace(url, "")  # the words without the links
        assert "Deploy build 1234?" in part
        assert "Requested by Ana." in part
        assert "Choose your answer below." in part
        assert "please don't forward this e-mail" in part
        for jargon in ("token", "payload", "callback", "Step Functions", "blob"):
            assert jargon.lower() not in part.lower()


def test_details_keep_their_line_breaks() -> None:
    """Details are plain text: each line break is a <br> in HTML and kept in the text part."""
    mail = approval_email(mint(), title="T", details="one\r\ntwo\n\nthree")
    assert "one<br>\ntwo<br>\n<br>\nthree" in mail.html
    assert "one\ntwo\n\nthree" in mail.text


def test_subject_is_one_line() -> None:
    """The subject has no line break whatever the words, so no header can be injected."""
    theme = EmailTheme(words=EmailWords(subject="Please decide:\n{title}"))
    mail = approval_email(mint(), title="Deploy   now", theme=theme)
    assert mail.subject == "Please decide: Deploy now"
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = mail.subject  # would raise on a line break


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"title": ""}, "title must not be blank"),
        ({"title": "   "}, "title must not be blank"),
        ({"title": "a\nb"}, "one line"),
        ({"title": "a\x00b"}, "one line"),
        ({"title": "x" * 201}, "longer than 200"),
        ({"title": "t", "details": "x" * 2001}, "longer than 2000"),
        ({"title": "t", "details": "bell\x07"}, "plain text"),
        ({"title": "t", "details": "\ud800"}, "plain text"),
        ({"title": "t", "recipient_name": "a\r\nBcc: x"}, "one line"),
        ({"title": "t", "actions": ["approve", "missing"]}, "'missing', which has no URL"),
        ({"title": "t", "actions": []}, "at least one action"),
        ({"title": "t", "labels": {"approve": "a\nb"}}, "one line"),
        ({"title": "t", "expires_at": datetime(2026, 12, 10)}, "timezone-aware"),
    ],
)
def test_bad_input_is_a_typed_error(kwargs: dict[str, object], says: str) -> None:
    """Bad context, names or actions raise InvalidRequest saying what is wrong."""
    with pytest.raises(InvalidRequest, match=says):
        approval_email(mint(), **kwargs)  # type: ignore[arg-type]


def test_limits_are_inclusive() -> None:
    """A 200-character title and 2,000 characters of details are accepted."""
    mail = approval_email(mint(), title="t" * 200, details="d" * 2000)
    assert "t" * 200 in mail.text


def test_actions_choose_and_order_the_buttons() -> None:
    """``actions`` offers only the named actions, in that order; the first is the filled one."""
    urls = mint()
    mail = approval_email(urls, title="T", actions=["reject", "approve"])
    buttons = [text for href, text in Page(mail.html).links if href != text]
    assert buttons == ["Reject", "Approve"]
    only = approval_email(urls, title="T", actions=["approve"])
    assert urls["reject"] not in only.html
    assert urls["reject"] not in only.text


def test_theme_words_language_and_footer() -> None:
    """Every word comes from the theme: a translated e-mail has none of the English ones."""
    words = EmailWords(
        subject="Freigabe: {title}",
        greeting="Hallo {name},",
        sentence="Bitte wählen Sie unten.",
        expires="Gültig bis {date}.",
        fallback="Falls ein Knopf nicht geht, öffnen Sie den Link:",
        keep_private="Bitte nicht weiterleiten.",
        date="{day}. {month} {year}, {time} UTC",
        months=("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
    )
    theme = EmailTheme(language="de", words=words, footer="Fragen: Team Plattform")
    mail = approval_email(
        mint(),
        title="Build 1234 ausrollen?",
        recipient_name="Ben",
        labels={"approve": "Freigeben", "reject": "Ablehnen"},
        expires_at=datetime(2026, 3, 10, 9, 5, tzinfo=timezone.utc),
        theme=theme,
    )
    assert mail.subject == "Freigabe: Build 1234 ausrollen?"
    assert '<html lang="de">' in mail.html
    visible = Page(mail.html).visible
    for text in ("Hallo Ben,", "Gültig bis 10. Mär 2026, 09:05 UTC.", "Fragen: Team Plattform"):
        assert text in visible
        assert text in mail.text
    english = EmailWords()
    for word in (english.sentence, english.fallback, english.keep_private, "Approve"):
        assert word not in visible
        assert word not in mail.text


@pytest.mark.parametrize(
    ("theme", "says"),
    [
        ({"accent_color": "red"}, "hex colour"),
        ({"accent_color": "#ffff00"}, "contrast"),
        ({"accent_color": "#1f6feb; background:url(x)"}, "hex colour"),
        ({"language": 'en"><script>'}, "language tag"),
        ({"product_name": "a\x1bb"}, "plain text"),
        ({"words": {"subject": "{title.__class__}"}}, "placeholder"),
        ({"words": {"greeting": "{name!r}"}}, "placeholder"),
        ({"words": {"sentence": "{title}"}}, "placeholder"),
        ({"words": {"expires": "{date"}}, "unmatched"),
    ],
)
def test_a_bad_theme_is_refused_when_made(theme: dict[str, object], says: str) -> None:
    """Colours, language, text and placeholders are checked when the theme is made."""
    with pytest.raises(ValidationError, match=says):
        EmailTheme.model_validate(theme)


def test_repr_shows_no_url() -> None:
    """The object's repr shows the subject only: the URLs are the approver's alone."""
    urls = mint()
    mail = approval_email(urls, title="T")
    assert isinstance(mail, ApprovalEmail)
    assert "respond" not in repr(mail)


def test_size_is_sane_for_real_tokens() -> None:
    """With real-length URLs and the longest context the HTML stays far under Gmail's 102 KB."""
    urls = mint()
    assert all(700 < len(url) < 1024 for url in urls.values())  # Outlook cuts at 1,024
    mail = approval_email(urls, title="t" * 200, details="d" * 2000, recipient_name="Ben")
    assert len(mail.html.encode()) < 20_000
    assert len(mail.text.encode()) < 6_000


@pytest.mark.parametrize(
    "theme",
    [
        {"accent_color": "#ffff00"},
        {"accent_color": "navy"},
        {"language": "en_GB"},
        {"product_name": "a\x07b"},
        {"words": {"date": "{day} {weekday}"}},
        {"words": {"months": ["{x}"] * 12}},
    ],
)
def test_the_email_and_page_themes_share_one_rule(theme: dict[str, object]) -> None:
    """A value the page theme refuses, the e-mail theme refuses with the very same words."""
    with pytest.raises(ValidationError) as page:
        PageTheme.model_validate(theme)
    with pytest.raises(ValidationError) as mail:
        EmailTheme.model_validate(theme)
    assert [e["msg"] for e in mail.value.errors()] == [e["msg"] for e in page.value.errors()]


def test_both_themes_keep_a_short_colour_as_six_digits() -> None:
    """``#036`` is ``#003366`` in both themes: mail readers' bgcolor is surest of six digits."""
    assert EmailTheme(accent_color="#036").accent_color == "#003366"
    assert PageTheme(accent_color="#036").accent_color == "#003366"


@pytest.mark.parametrize(
    ("title", "details"),
    [
        ("t" * 200, "d" * 2000),
        ("t" * 201, ""),
        ("t", "d" * 2001),
        ("   ", ""),
        ("a\r\nb", ""),
        ("t", "one\r\ntwo\tthree"),
        ("t", "bell\x07"),
        ("t\x85", ""),
    ],
)
def test_the_email_takes_the_title_and_details_the_confirm_page_takes(
    title: str, details: str
) -> None:
    """approval_email accepts a title and details exactly when ConfirmPage does, as it does."""
    try:
        page: ConfirmPage | None = ConfirmPage(title=title, details=details)
    except ValidationError:
        page = None
    if page is None:
        with pytest.raises(InvalidRequest):
            approval_email(mint(), title=title, details=details)
    else:
        mail = approval_email(mint(), title=title, details=details)
        assert f"{page.title}\n\n{page.details}" in mail.text


def test_an_email_theme_from_the_page_theme_looks_like_the_pages() -> None:
    """EmailTheme.from_page_theme takes the pages' product name, colour, footer and language."""
    pages = PageTheme(
        product_name="Acme Deploys",
        accent_color="#0B6E4F",
        footer="ops@acme.example",
        language="de",
    )
    german = EmailWords(sentence="Bitte wählen Sie unten.")
    theme = EmailTheme.from_page_theme(pages, words=german)
    assert (theme.product_name, theme.accent_color, theme.footer, theme.language) == (
        "Acme Deploys",
        "#0b6e4f",
        "ops@acme.example",
        "de",
    )
    mail = approval_email(mint(), title="T", theme=theme)
    assert '<html lang="de">' in mail.html
    assert "border-top:4px solid #0b6e4f" in mail.html
    assert "Bitte wählen Sie unten." in mail.text
    assert EmailTheme.from_page_theme(PageTheme()).words == EmailWords()
