"""The approver's pages through the ready Lambda app, on real moto executions.

The sender mints with ``create_urls_handler`` (a ``confirm`` object: title, details, comment);
the approver's browser is played by ``process_callback_handler`` with a browser's ``Accept``:
it GETs the link, reads the page's own form (method, action, field) and submits it as a browser
would (``application/x-www-form-urlencoded``, line breaks as CRLF). Where moto differs from AWS
(``SendTaskFailure`` drops the cause), the cause is asserted on the recorded call.
"""

from __future__ import annotations

import html
import json
import logging
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

from helpers import answer_json, event_for  # tests/ is on sys.path
from sfn_callback_urls._config import ENV_CHECK_TASK_BEFORE_CONFIRM, ENV_PAGE_THEME
from sfn_callback_urls.aws_lambda import create_urls_handler, process_callback_handler, reset_app
from sfn_callback_urls.testing import ApprovalMachine

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM = "application/x-www-form-urlencoded"
TITLE = 'Deploy build <1234> to "production"?'
DETAILS = "Requested by Ana & Ben.\n<script>alert(1)</script>\n  12 commits."


class Form(HTMLParser):
    """The first form of a page: its method, action, fields and the attributes of each."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.method: str | None = None
        self.action: str | None = None
        self.fields: dict[str, dict[str, str | None]] = {}
        self.headings: list[str] = []
        self._in_h1 = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect the form and its fields."""
        attributes = dict(attrs)
        if tag == "form" and self.method is None:
            self.method = (attributes.get("method") or "get").upper()
            self.action = attributes.get("action")
        elif tag in ("textarea", "input") and attributes.get("name"):
            self.fields[str(attributes["name"])] = attributes
        elif tag == "h1":
            self._in_h1 = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        """End of the heading."""
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        """The heading's text, unescaped as a browser shows it."""
        if self._in_h1:
            self.headings[-1] += data


def mint(token: str, *actions: dict[str, Any]) -> dict[str, str]:
    """The URLs the ready app mints for ``actions``."""
    created = create_urls_handler({"token": token, "actions": list(actions)}, None)
    assert "error" not in created, created
    return dict(created["urls"])


def approve_action(comment: str = "optional", **confirm: Any) -> dict[str, Any]:
    """A success action whose confirm page has the sender's context and a comment box."""
    page = {"title": TITLE, "details": DETAILS, "comment": comment, **confirm}
    return {
        "name": "approve",
        "type": "success",
        "output": {"name_in_output": "Ben"},
        "confirm": page,
    }


def reject_action(comment: str = "required", **confirm: Any) -> dict[str, Any]:
    """A failure action that asks for a reason."""
    page = {"title": "Reject the deploy?", "comment": comment, **confirm}
    return {
        "name": "reject",
        "type": "failure",
        "error": "rejected",
        "cause": "Ben rejected it",
        "confirm": page,
    }


def browse(url: str) -> dict[str, Any]:
    """What a browser gets for a GET of ``url``."""
    return process_callback_handler(event_for(url, headers={"accept": BROWSER}), None)


def submit(url: str, page: str, comment: str | None, *, source: str = "apigw_v1") -> dict[str, Any]:
    """Submit the page's own form as a browser does: its method, its action, CRLF line breaks."""
    form = Form(page)
    assert form.method == "POST"
    target = urljoin(url, form.action or "")  # action="" is the page's own URL, query included
    fields = {}
    if comment is not None:
        assert "comment" in form.fields
        fields["comment"] = comment.replace("\n", "\r\n")
    body = urlencode(fields).encode()
    headers = {"accept": BROWSER, "content-type": FORM}
    event = event_for(target, source, method="POST", body=body, headers=headers)
    return process_callback_handler(event, None)


def sent(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The Step Functions calls that complete or touch a task."""
    return [name for name, _ in calls if name.startswith("SendTask")]


# --- done means -----------------------------------------------------------------------------------


def test_get_shows_title_and_details_escaped_and_a_comment_box(
    app_env: Any, approval_machine: ApprovalMachine, sfn_calls: list[Any]
) -> None:
    """A GET shows the sender's title as heading and the details below, escaped; sends nothing."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action(), reject_action())
    answer = browse(urls["approve"])
    page = answer["body"]
    assert answer["statusCode"] == 200
    assert f"<h1>{html.escape(TITLE)}</h1>" in page
    assert Form(page).headings == [TITLE]  # shown exactly as written
    assert f'<p class="details">{html.escape(DETAILS)}</p>' in page
    assert "<script>" not in page
    assert "Choose <strong>Approve</strong> to record your answer." in page
    box = Form(page).fields["comment"]
    assert box["maxlength"] == "500"
    assert "required" not in box
    assert '<label for="comment">Comment (optional)</label>' in page
    reason = Form(browse(urls["reject"])["body"]).fields["comment"]
    assert "required" in reason
    assert sent(sfn_calls) == []
    assert approval_machine.wait_for_status(execution, {"RUNNING"})["status"] == "RUNNING"


def test_json_answer_carries_title_and_details(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """A JSON client's confirm answer has the title, details and comment rule."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action())
    body = answer_json(process_callback_handler(event_for(urls["approve"]), None))
    assert body["confirm"] is True
    assert (body["title"], body["details"]) == (TITLE, DETAILS)
    assert (body["comment"], body["comment_max_length"]) == ("optional", 500)


@pytest.mark.parametrize("source", ["apigw_v1", "apigw_v2", "alb_multivalue"])
def test_submitting_the_form_records_the_comment_in_the_output(
    app_env: Any, approval_machine: ApprovalMachine, source: str
) -> None:
    """The page's own form: the comment (CRLF to LF, stripped) lands in the output object."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action(), reject_action())
    page = browse(urls["approve"])["body"]
    comment = "  Looks good <b>&</b>\nship it  "
    answer = submit(urls["approve"], page, comment, source=source)
    assert answer["statusCode"] == 200
    done = answer["body"]
    assert "<h1>Approved</h1>" in done
    assert "Your answer was recorded. You can close this page." in done
    assert '<p class="quote">Looks good &lt;b&gt;&amp;&lt;/b&gt;\nship it</p>' in done
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {
        "name_in_output": "Ben",
        "comment": "Looks good <b>&</b>\nship it",
    }


def test_submitting_the_form_records_the_comment_as_the_cause(
    app_env: Any, approval_machine: ApprovalMachine, sfn_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """A failure's comment is its cause (moto drops the cause: asserted on the call)."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action(), reject_action())
    page = browse(urls["reject"])["body"]
    answer = submit(urls["reject"], page, "Tests are red.\nTry again tomorrow.")
    assert answer["statusCode"] == 200
    assert "<h1>Rejected</h1>" in answer["body"]
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"  # caught
    assert approval_machine.confirmation()["Error"] == "rejected"
    failures = [params for name, params in sfn_calls if name == "SendTaskFailure"]
    assert [(call["error"], call["cause"]) for call in failures] == [
        ("rejected", "Tests are red.\nTry again tomorrow.")
    ]


def test_no_comment_keeps_the_sealed_cause_and_output(
    app_env: Any, approval_machine: ApprovalMachine, sfn_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """An optional comment left empty (or blank): the sealed cause stays; no "comment" key."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, reject_action("optional"))
    page = browse(urls["reject"])["body"]
    assert submit(urls["reject"], page, " \n ")["statusCode"] == 200
    approval_machine.wait_for_status(execution)
    failures = [params for name, params in sfn_calls if name == "SendTaskFailure"]
    assert [call["cause"] for call in failures] == ["Ben rejected it"]

    execution = approval_machine.start("Ana")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action())
    assert submit(urls["approve"], browse(urls["approve"])["body"], "")["statusCode"] == 200
    output = json.loads(approval_machine.wait_for_status(execution)["output"])["output"]
    assert output == {"name_in_output": "Ben"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"comment=+%0D%0A+", "Please add a reason."),
        (b"", "Please add a reason."),
        (urlencode({"comment": "x" * 21}).encode(), "Please keep it to 20 characters or fewer."),
        (urlencode({"comment": "bell\x07"}).encode(), "Please use ordinary text only"),
        (urlencode({"comment": "a\rb"}).encode(), "Please use ordinary text only"),
        (b"comment=%FF%FE", "Please use ordinary text only"),
        (b"comment=a&comment=b", "Please use ordinary text only"),
    ],
)
def test_every_refusal_completes_nothing_and_shows_the_form_again(
    app_env: Any,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
    body: bytes,
    reason: str,
) -> None:
    """A refused comment: 400, the form again with the reason by the box, nothing sent."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, reject_action(comment_max_length=20))
    headers = {"accept": BROWSER, "content-type": FORM}
    event = event_for(urls["reject"], method="POST", body=body, headers=headers)
    answer = process_callback_handler(event, None)
    assert answer["statusCode"] == 400
    page = answer["body"]
    assert f'<p id="comment-problem" class="problem">{html.escape(reason)}' in page
    box = Form(page).fields["comment"]
    assert box["aria-invalid"] == "true"
    assert box["aria-describedby"] == "comment-problem comment-hint"
    assert Form(page).method == "POST"
    assert sent(sfn_calls) == []
    assert approval_machine.wait_for_status(execution, {"RUNNING"})["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"comment": "x"}', None),
        (b'{"comment": null}', "InvalidComment"),
        (b'{"comment": "' + b"x" * 21 + b'"}', "InvalidComment"),
        (b'{"comment": "tab\\tok but nul\\u0000"}', "InvalidComment"),
        (b'{"comment": "\\ud800"}', "InvalidPostActionBody"),
        (b'{"comment": 5}', "InvalidPostActionBody"),
        (b"[]", "InvalidPostActionBody"),
    ],
)
def test_json_comments_follow_the_same_rules(
    app_env: Any,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
    body: bytes,
    code: str | None,
) -> None:
    """A JSON client's {"comment"}: the same rules; a refusal is a 400 error and sends nothing."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, reject_action(comment_max_length=20))
    headers = {"content-type": "application/json"}
    answer = process_callback_handler(
        event_for(urls["reject"], method="POST", body=body, headers=headers), None
    )
    if code is None:
        assert answer["statusCode"] == 200
        assert [params["cause"] for _, params in sfn_calls] == ["x"]
    else:
        assert answer["statusCode"] == 400
        assert answer_json(answer)["error"] == code
        assert sent(sfn_calls) == []


def test_confirm_true_behaves_as_before(app_env: Any, approval_machine: ApprovalMachine) -> None:
    """``confirm: true``: a GET asks (no comment box), the button's POST completes as ever."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(
        token, {"name": "approve", "type": "success", "output": {"ok": True}, "confirm": True}
    )
    page = browse(urls["approve"])["body"]
    assert "<h1>Approve this request?</h1>" in page
    assert Form(page).fields == {}
    answer = submit(urls["approve"], page, None)
    assert answer["statusCode"] == 200
    described = approval_machine.wait_for_status(execution)
    assert json.loads(described["output"])["output"] == {"ok": True}


def test_a_page_without_a_comment_box_ignores_a_posted_comment(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """With ``comment: "none"`` the output is the sealed one, whatever the POST carries."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action("none"))
    page = browse(urls["approve"])["body"]
    assert "<textarea" not in page
    event = event_for(
        urls["approve"],
        method="POST",
        body=b"comment=sneaky",
        headers={"accept": BROWSER, "content-type": FORM},
    )
    assert process_callback_handler(event, None)["statusCode"] == 200
    output = json.loads(approval_machine.wait_for_status(execution)["output"])["output"]
    assert output == {"name_in_output": "Ben"}


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ({"name": "wait", "type": "heartbeat"}, "a heartbeat action cannot take a comment"),
        (
            {
                "name": "post",
                "type": "post",
                "outcomes": [{"name": "ok", "type": "success", "schema": {}}],
            },
            "a post action cannot take a comment",
        ),
        (
            {"name": "ok", "type": "success", "output": "yes"},
            "needs an output that is a JSON object",
        ),
        (
            {"name": "ok", "type": "success", "output": None},
            "needs an output that is a JSON object",
        ),
    ],
)
def test_a_comment_is_refused_at_the_mint_where_it_cannot_land(
    app_env: Any, action: dict[str, Any], problem: str
) -> None:
    """No URL is minted for a comment that could not be recorded."""
    app_env.setenv("ENABLE_POST_ACTIONS", "true")
    reset_app()
    action = {**action, "confirm": {"title": "Go?", "comment": "optional"}}
    answer = create_urls_handler({"token": "t" * 40, "actions": [action]}, None)
    assert answer["error"] == "InvalidJSON"  # the original app's code for an invalid request
    assert problem in answer["message"]


def test_the_comment_is_never_logged_only_its_length(
    app_env: Any, approval_machine: ApprovalMachine, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit record carries the comment's length; no record holds its text (VERBOSE on)."""
    app_env.setenv("VERBOSE", "true")
    reset_app()
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action())
    secret = "private words 7f3a"
    with caplog.at_level(logging.DEBUG):
        page = browse(urls["approve"])["body"]
        submit(urls["approve"], page, secret)
        submit(urls["approve"], page, secret * 100)  # refused: too long
    callbacks = [record for record in caplog.records if getattr(record, "event", "") == "callback"]
    assert [getattr(record, "comment_length", None) for record in callbacks] == [None, 18, None]
    assert getattr(callbacks[-1], "error", None) == "InvalidComment"
    for record in caplog.records:
        assert "7f3a" not in record.getMessage()
        assert "7f3a" not in repr(vars(record))


# --- already answered -----------------------------------------------------------------------------


def test_already_answered_instead_of_a_form_that_can_only_fail(
    app_env: Any, heartbeat_machine: ApprovalMachine, sfn_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """With CHECK_TASK_BEFORE_CONFIRM, a GET after the answer says so (409), without a form.

    moto answers a heartbeat only for a task with ``HeartbeatSeconds`` (AWS for any waiting
    task): the machine has one.
    """
    app_env.setenv(ENV_CHECK_TASK_BEFORE_CONFIRM, "true")
    reset_app()
    execution = heartbeat_machine.start("Ben")
    token, _ = heartbeat_machine.wait_for_token()
    urls = mint(token, approve_action(), reject_action())
    first = browse(urls["reject"])
    assert first["statusCode"] == 200
    assert "<form" in first["body"]
    assert sent(sfn_calls) == ["SendTaskHeartbeat"]  # the probe; the task still waits
    assert submit(urls["approve"], browse(urls["approve"])["body"], "ok")["statusCode"] == 200
    assert heartbeat_machine.wait_for_status(execution)["status"] == "SUCCEEDED"

    again = browse(urls["reject"])
    assert again["statusCode"] == 409
    assert "<h1>Already answered</h1>" in again["body"]
    assert "Nothing was changed." in again["body"]
    assert "<form" not in again["body"]


def test_without_the_check_the_form_is_shown_and_its_post_says_already_answered(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """Off by default: no heartbeat; the form's POST then gets the "Already answered" page."""
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action(), reject_action())
    assert submit(urls["approve"], browse(urls["approve"])["body"], "ok")["statusCode"] == 200
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"
    page = browse(urls["approve"])
    assert page["statusCode"] == 200
    assert "<form" in page["body"]
    answer = submit(urls["approve"], page["body"], "again")
    assert answer["statusCode"] == 409
    assert "<h1>Already answered</h1>" in answer["body"]


# --- the theme ------------------------------------------------------------------------------------


def test_the_ready_app_takes_a_theme_from_its_environment(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """SFN_CALLBACK_URLS_PAGE_THEME brands and translates the pages; the CSP allows its logo."""
    theme = {
        "product_name": "Acme <Deploys>",
        "logo_url": "https://cdn.example.com/acme.png",
        "accent_color": "#8250DF",
        "footer": "Fragen? ops@example.com",
        "language": "de",
        "words": {
            "choose": "Wählen Sie {button}, um Ihre Antwort zu speichern.",
            "comment_optional": "Kommentar (optional)",
            "comment_hint": "Bis zu {limit} Zeichen.",
            "expires": "Gültig bis {date}",
            "months": [
                "Jan",
                "Feb",
                "Mär",
                "Apr",
                "Mai",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Okt",
                "Nov",
                "Dez",
            ],
        },
    }
    app_env.setenv(ENV_PAGE_THEME, json.dumps(theme))
    reset_app()
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    urls = mint(token, approve_action())
    answer = browse(urls["approve"])
    page = answer["body"]
    assert '<html lang="de">' in page
    assert '<img src="https://cdn.example.com/acme.png" alt="Acme &lt;Deploys&gt;">' in page
    assert "Wählen Sie <strong>Approve</strong>, um Ihre Antwort zu speichern." in page
    assert "Kommentar (optional)" in page
    assert "Bis zu 500 Zeichen." in page
    assert "<footer>Fragen? ops@example.com</footer>" in page
    assert "background:#8250df" in page
    csp = answer["headers"]["Content-Security-Policy"]
    assert csp.endswith("; img-src https://cdn.example.com/acme.png")
    assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")


@pytest.mark.parametrize(
    ("theme", "problem"),
    [
        ('{"accent_color": "#ffdd00"}', "accent_color: is too light"),
        ('{"logo_url": "https://x.example/a.png; script-src *"}', "logo_url"),
        ('{"words": {"choose": "Press {buton}"}}', "words.choose: uses the placeholder {buton}"),
        ('{"colour": "#000000"}', "colour"),
        ("not json", "theme"),
    ],
)
def test_a_bad_theme_is_a_configuration_error(
    app_env: Any, approval_machine: ApprovalMachine, theme: str, problem: str
) -> None:
    """A theme that would weaken the page or break a word is refused, naming the variable."""
    app_env.setenv(ENV_PAGE_THEME, theme)
    reset_app()
    answer = process_callback_handler(event_for("https://x.example/v1/respond?data=x"), None)
    assert answer["statusCode"] == 500
    body = answer_json(answer)
    assert body["error"] == "ConfigurationError"
    assert ENV_PAGE_THEME in body["message"]
    assert problem in body["message"]
