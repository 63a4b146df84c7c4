"""The ready Lambda handlers: the blog post's approval flow end to end on moto, and the app's edges.

The state machine runs in moto (``approval_machine``); ``create_urls_handler`` mints the blog's
URLs for its task token and ``process_callback_handler`` receives the clicks as Lambda events
built from those URLs, as API Gateway, a function URL or an ALB would deliver them.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import boto3
import pytest

from helpers import (  # tests/ is on sys.path
    APP_BASE_URL,
    answer_json,
    blob_of,
    blog_request,
    create_event,
    event_for,
)
from sfn_callback_urls import Codec, CreateUrlsResponse, LocalKey, Minter, SuccessAction
from sfn_callback_urls._config import (
    ENV_BASE_URL,
    ENV_CONFIRM_GET,
    ENV_ENABLE_OUTPUT_PARAMETERS,
    ENV_ENABLE_POST_ACTIONS,
    ENV_KEY,
    ENV_KEY_ID,
    ENV_PURPOSE,
    ENV_WRAPPED_KEY,
    Settings,
)
from sfn_callback_urls._time import utcnow
from sfn_callback_urls._validation import parse_create_urls_request
from sfn_callback_urls.aws_lambda import (
    create_urls_handler,
    get_app,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.errors import ConfigurationError, InvalidRequest
from sfn_callback_urls.testing import ApprovalMachine

SOURCES = ["apigw_v1", "apigw_v2", "function_url", "alb", "alb_multivalue"]


def start_and_mint(machine: ApprovalMachine, **extra: Any) -> tuple[str, dict[str, Any]]:
    """Start an execution, read its token and mint the blog's URLs for it."""
    execution_arn = machine.start("Ben")
    token, message = machine.wait_for_token()
    assert message["name_in_input"] == "Ben"
    created = create_urls_handler(blog_request(token, **extra), None)
    assert "error" not in created, created
    return execution_arn, created


# --- the blog post's flow ------------------------------------------------------------------------


def test_blog_flow_approve(app_env: Any, approval_machine: ApprovalMachine) -> None:
    """Approve through API Gateway: the execution succeeds with the blog's output."""
    execution_arn, created = start_and_mint(approval_machine)
    assert set(created) == {"transaction_id", "urls"}
    approve = created["urls"]["approve"]
    assert approve.startswith(f"{APP_BASE_URL}/respond?action=approve&type=success&data=")
    assert len(approve) < 1024

    answer = process_callback_handler(event_for(approve), None)

    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is False
    assert answer_json(answer) == {
        "transaction_id": created["transaction_id"],
        "action": {"name": "approve", "type": "success"},
    }
    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"name": "Ben", "output": {"name_in_output": "Ben"}}
    assert approval_machine.confirmation() == {"name_in_output": "Ben"}


def test_blog_flow_reject(
    app_env: Any, approval_machine: ApprovalMachine, sfn_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """Reject: the task fails with the blog's error and cause, which the machine catches.

    moto drops ``cause`` from SendTaskFailure, so the cause is asserted on the call itself.
    """
    execution_arn, created = start_and_mint(approval_machine)
    answer = process_callback_handler(event_for(created["urls"]["reject"]), None)
    assert answer["statusCode"] == 200
    assert answer_json(answer)["action"] == {"name": "reject", "type": "failure"}
    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"  # the Catch on "rejected" leads to the confirmation
    assert json.loads(execution["output"])["output"]["Error"] == "rejected"
    assert approval_machine.confirmation()["Error"] == "rejected"
    failures = [params for name, params in sfn_calls if name == "SendTaskFailure"]
    assert [(call["error"], call["cause"]) for call in failures] == [
        ("rejected", "Ben rejected it")
    ]


def test_second_click_is_409(app_env: Any, approval_machine: ApprovalMachine) -> None:
    """Clicking approve again after the execution finished answers 409 TaskAlreadyCompleted."""
    execution_arn, created = start_and_mint(approval_machine)
    approve = event_for(created["urls"]["approve"])
    assert process_callback_handler(approve, None)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
    again = process_callback_handler(approve, None)
    assert again["statusCode"] == 409
    assert answer_json(again)["error"] == "TaskAlreadyCompleted"


@pytest.mark.parametrize("source", SOURCES[1:])
def test_approve_through_every_event_source(
    app_env: Any, approval_machine: ApprovalMachine, source: str
) -> None:
    """HTTP API, function URL and ALB (both header modes) complete the task the same way."""
    execution_arn, created = start_and_mint(approval_machine)
    answer = process_callback_handler(event_for(created["urls"]["approve"], source), None)
    assert answer["statusCode"] == 200
    assert answer_json(answer)["action"] == {"name": "approve", "type": "success"}
    if source.startswith("alb"):
        assert answer["statusDescription"] == "200 OK"
        assert ("multiValueHeaders" in answer) == (source == "alb_multivalue")
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_a_browser_gets_html(app_env: Any, approval_machine: ApprovalMachine) -> None:
    """A browser's Accept header gets the HTML page, sent as text."""
    execution_arn, created = start_and_mint(approval_machine)
    event = event_for(created["urls"]["approve"], headers={"accept": "text/html,*/*;q=0.8"})
    answer = process_callback_handler(event, None)
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert answer["isBase64Encoded"] is False
    assert "<h1>Approved</h1>" in answer["body"]
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def tamper(url: str) -> str:
    """The URL with one character of its blob changed."""
    index = len(url) - 20
    return url[:index] + ("A" if url[index] != "A" else "B") + url[index + 1 :]


def test_bad_urls_are_refused_and_the_task_waits(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """Tampered, expired, mismatched and foreign URLs get 4xx, never 500, and complete nothing."""
    execution_arn, created = start_and_mint(approval_machine)
    approve, reject = created["urls"]["approve"], created["urls"]["reject"]
    app = get_app()
    token = app.codec.open(blob_of(approve)).token
    past = utcnow() - timedelta(hours=2)
    expired_request = blog_request(token, expiration=(past + timedelta(hours=1)).isoformat())
    expired = app.create_urls(expired_request, now=past).urls["approve"]
    only_approve = [SuccessAction(name="approve", output={})]
    foreign = Minter(Codec(LocalKey.generate()), base_url=APP_BASE_URL).mint(token, only_approve)
    other_purpose = Minter(Codec(app.codec.keyring, purpose="another-app"), base_url=APP_BASE_URL)
    misdirected = other_purpose.mint(token, only_approve)

    cases = {
        "tampered": (tamper(approve), 400, "InvalidPayload"),
        "expired": (expired, 400, "ExpiredPayload"),
        "renamed": (approve.replace("action=approve", "action=reject"), 400, "ActionMismatched"),
        "retyped": (approve.replace("type=success", "type=failure"), 400, "ActionMismatched"),
        "swapped": (
            approve.split("data=")[0] + "data=" + reject.split("data=")[1],
            400,
            "ActionMismatched",
        ),
        "no data": (approve.split("&data=")[0], 400, "InvalidPayload"),
        "two data": (approve + "&data=" + reject.split("data=")[1], 400, "InvalidPayload"),
        "foreign key": (foreign.urls["approve"], 400, "InvalidPayload"),
        "other purpose": (misdirected.urls["approve"], 400, "InvalidPayload"),
    }
    for name, (url, status, code) in cases.items():
        answer = process_callback_handler(event_for(url), None)
        assert (name, answer["statusCode"], answer_json(answer)["error"]) == (name, status, code)
    execution = approval_machine.wait_for_status(execution_arn, statuses={"RUNNING"})
    assert execution["status"] == "RUNNING"


# --- creating URLs over HTTP ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "base_url"),
    [
        ("apigw_v1", APP_BASE_URL),
        ("apigw_v2", "https://r3pmxmplak.execute-api.us-east-2.amazonaws.com/v1"),
        ("function_url", "https://a5b2xmpl3vdsevqzzmoyrxmpl40qwsbr.lambda-url.us-west-2.on.aws"),
    ],
)
def test_create_over_http_derives_the_base_url(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    source: str,
    base_url: str,
) -> None:
    """POST /urls answers 200 with URLs under the API's own address, and they work."""
    app_env.delenv(ENV_BASE_URL)
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    answer = create_urls_handler(create_event(json.dumps(blog_request(token)), source), None)
    assert answer["statusCode"] == 200
    created = answer_json(answer)
    approve = created["urls"]["approve"]
    assert approve.startswith(f"{base_url}/respond?action=approve&")
    click = process_callback_handler(event_for(approve, source), None)
    assert click["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_create_over_http_prefers_the_configured_base_url(app_env: Any) -> None:
    """CALLBACK_BASE_URL wins over the address derived from the event."""
    answer = create_urls_handler(create_event(json.dumps(blog_request("t" * 40))), None)
    assert answer_json(answer)["urls"]["approve"].startswith(f"{APP_BASE_URL}/respond?")


def test_the_request_base_url_wins(app_env: Any) -> None:
    """A request's own base_url is used, as in the original (another deployment, a proxy)."""
    request = blog_request("t" * 40, base_url="https://callbacks.example.com/x")
    created = create_urls_handler(request, None)
    assert created["urls"]["reject"].startswith("https://callbacks.example.com/x/respond?")
    answer = create_urls_handler(create_event(json.dumps(request)), None)
    assert answer_json(answer)["urls"]["reject"].startswith("https://callbacks.example.com/x/")


@pytest.mark.parametrize(
    "expiration", [None, "2099-01-02T03:04:05Z", "2099-01-02T08:34:05.25+05:30", "2099-01-02"]
)
def test_the_create_urls_answer_is_the_responses_json_dump(
    app_env: Any, expiration: str | None
) -> None:
    """Both ways in, the answer is exactly the response model's JSON dump (the contract)."""
    extra = {} if expiration is None else {"expiration": expiration}
    request = blog_request("t" * 40, **extra)
    for answer in (
        create_urls_handler(request, None),
        answer_json(create_urls_handler(create_event(json.dumps(request)), None)),
    ):
        model = CreateUrlsResponse.model_validate(answer)
        assert answer == model.model_dump(mode="json", exclude_none=True)
        assert ("expiration" in answer) == (expiration is not None)


def test_create_over_http_base64_body(app_env: Any) -> None:
    """A base64-encoded request body is decoded first."""
    event = create_event(json.dumps(blog_request("t" * 40)), base64_body=True)
    answer = create_urls_handler(event, None)
    assert answer["statusCode"] == 200
    assert set(answer_json(answer)["urls"]) == {"approve", "reject"}


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (create_event("{not json"), 400, "InvalidJSON"),
        (create_event(""), 400, "InvalidJSON"),
        (create_event(b"\xff\xfe", base64_body=True), 400, "InvalidJSON"),
        (create_event('{"token": "t"}'), 400, "InvalidJSON"),
        (create_event("[]"), 400, "InvalidJSON"),
        (create_event('{"a": 1}', content_type="text/plain"), 415, "UnsupportedMediaType"),
        (create_event("{}", method="GET"), 405, "MethodNotAllowed"),
        (
            create_event(
                json.dumps(
                    {
                        "token": "t",
                        "actions": [
                            {"name": "a", "type": "heartbeat"},
                            {"name": "a", "type": "heartbeat"},
                        ],
                    }
                )
            ),
            400,
            "DuplicateActionName",
        ),
    ],
)
def test_create_over_http_bad_input_is_4xx(
    app_env: Any, event: dict[str, Any], status: int, code: str
) -> None:
    """Bad input is answered with the error JSON and a 4xx status, never a 500."""
    answer = create_urls_handler(event, None)
    assert answer["statusCode"] == status
    assert answer_json(answer)["error"] == code
    if status == 405:
        assert answer["headers"]["Allow"] == "POST"


def test_create_over_http_with_a_broken_integration(app_env: Any) -> None:
    """A body flagged base64 that is not (only a broken integration sends one) is answered."""
    event = create_event("{}")
    event.update(body="not base64!", isBase64Encoded=True)
    answer = create_urls_handler(event, None)
    assert answer["statusCode"] == 500
    assert answer_json(answer)["error"] == "UnsupportedEvent"


def test_create_without_content_type_is_accepted(app_env: Any) -> None:
    """A body without Content-Type is parsed as JSON."""
    answer = create_urls_handler(
        create_event(json.dumps(blog_request("t" * 40)), content_type=None), None
    )
    assert answer["statusCode"] == 200


# --- direct invocation ---------------------------------------------------------------------------


def test_direct_invocation_with_expiration(app_env: Any) -> None:
    """The response JSON carries the expiration in UTC, as the original's did."""
    expiration = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    created = create_urls_handler(blog_request("t" * 40, expiration=expiration.isoformat()), None)
    assert set(created) == {"transaction_id", "urls", "expiration"}
    assert created["expiration"] == expiration.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("request_json", "code"),
    [
        ({"token": "t"}, "InvalidJSON"),
        ({"token": "t", "actions": [{"name": "a", "type": "nope"}]}, "InvalidJSON"),
        (
            {"token": "t", "actions": [{"name": "a", "type": "heartbeat"}] * 2},
            "DuplicateActionName",
        ),
        (
            {
                "token": "t",
                "actions": [{"name": "a", "type": "heartbeat"}],
                "expiration": "2001-01-01T00:00:00Z",
            },
            "InvalidDate",
        ),
        (
            {
                "token": "t",
                "actions": [{"name": "a", "type": "heartbeat"}],
                "enable_output_parameters": True,
            },
            "ParametersDisabled",
        ),
        (
            {
                "token": "t",
                "actions": [
                    {
                        "name": "a",
                        "type": "post",
                        "outcomes": [{"name": "o", "type": "heartbeat", "schema": {}}],
                    }
                ],
            },
            "PostActionsDisabled",
        ),
        ("not json", "InvalidJSON"),
        (None, "InvalidJSON"),
    ],
)
def test_direct_invocation_errors_are_returned(app_env: Any, request_json: Any, code: str) -> None:
    """Errors come back as {"transaction_id", "error", "message"}, returned as in the original."""
    result = create_urls_handler(request_json, None)
    assert list(result) == ["transaction_id", "error", "message"]
    assert str(uuid.UUID(result["transaction_id"])) == result["transaction_id"]
    assert result["error"] == code


def test_direct_invocation_needs_a_base_url(app_env: pytest.MonkeyPatch) -> None:
    """Without CALLBACK_BASE_URL or a base_url in the request, the error says what to set."""
    app_env.delenv(ENV_BASE_URL)
    reset_app()
    result = create_urls_handler(blog_request("t" * 40), None)
    assert result["error"] == "ConfigurationError"
    assert ENV_BASE_URL in result["message"]


# --- configuration -------------------------------------------------------------------------------


def test_missing_key_is_a_clear_configuration_error(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """No key: every entry point answers ConfigurationError naming the variables to set."""
    execution_arn, created = start_and_mint(approval_machine)
    app_env.delenv(ENV_KEY)
    reset_app()

    direct = create_urls_handler(blog_request("t" * 40), None)
    over_http = create_urls_handler(create_event(json.dumps(blog_request("t" * 40))), None)
    click = process_callback_handler(event_for(created["urls"]["approve"]), None)

    assert direct["error"] == "ConfigurationError"
    for answer in (over_http, click):
        assert answer["statusCode"] == 500
        assert answer_json(answer) == direct
    assert ENV_KEY in direct["message"]
    assert ENV_KEY_ID in direct["message"]
    assert "Traceback" not in direct["message"]
    assert approval_machine.wait_for_status(execution_arn, {"RUNNING"})["status"] == "RUNNING"


def test_configuration_failures_are_not_cached(app_env: pytest.MonkeyPatch) -> None:
    """After a configuration error the next invocation reads the environment again."""
    key = LocalKey.generate().to_string()
    app_env.delenv(ENV_KEY)
    reset_app()
    assert create_urls_handler(blog_request("t" * 40), None)["error"] == "ConfigurationError"
    app_env.setenv(ENV_KEY, key)
    assert "urls" in create_urls_handler(blog_request("t" * 40), None)


def test_configuration_is_read_once(app_env: pytest.MonkeyPatch) -> None:
    """The app is built once per process; reset_app forgets it."""
    app = get_app()
    app_env.setenv(ENV_KEY, LocalKey.generate().to_string())
    assert get_app() is app
    reset_app()
    assert get_app() is not app


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("Yes", True), (" yes ", True)],
        *[("false", False), ("0", False), ("no", False), ("", False), ("on", False)],
    ],
)
def test_flags(value: str, enabled: bool) -> None:
    """ENABLE_* and CONFIRM_GET accept true/1/yes in any case; anything else is off."""
    environ = {
        ENV_KEY: LocalKey.generate().to_string(),
        ENV_ENABLE_OUTPUT_PARAMETERS: value,
        ENV_ENABLE_POST_ACTIONS: value,
        ENV_CONFIRM_GET: value,
    }
    settings = Settings.from_environment(environ)
    assert settings.enable_output_parameters is enabled
    assert settings.enable_post_actions is enabled
    assert settings.confirm_get is enabled


def test_settings_defaults() -> None:
    """Only a key is required; everything else has a default."""
    settings = Settings.from_environment({ENV_KEY: LocalKey.generate().to_string()})
    assert settings.purpose == "sfn-callback-urls"
    assert settings.base_url is None
    assert not settings.enable_output_parameters
    assert not settings.enable_post_actions
    assert not settings.confirm_get


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, [ENV_KEY, ENV_KEY_ID]),
        ({ENV_KEY: "not-a-key"}, [ENV_KEY]),
        ({ENV_KEY: "k", ENV_WRAPPED_KEY: "w"}, [ENV_KEY, ENV_WRAPPED_KEY]),
    ],
)
def test_bad_key_configuration_names_the_variable(
    environ: dict[str, str], names: list[str]
) -> None:
    """A missing, invalid or ambiguous key says which variable to set."""
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_environment(environ)
    for name in names:
        assert name in raised.value.message


def test_bad_base_url_names_the_variable(app_env: pytest.MonkeyPatch) -> None:
    """An invalid CALLBACK_BASE_URL is a configuration error that names it."""
    app_env.setenv(ENV_BASE_URL, "ftp://example.com/x?y")
    reset_app()
    result = create_urls_handler(blog_request("t" * 40), None)
    assert result["error"] == "ConfigurationError"
    assert result["message"].startswith(ENV_BASE_URL)


def test_purpose_keeps_deployments_apart(app_env: pytest.MonkeyPatch) -> None:
    """URLs minted under one SFN_CALLBACK_URLS_PURPOSE are refused under another."""
    app_env.setenv(ENV_PURPOSE, "approvals")
    reset_app()
    approve = create_urls_handler(blog_request("t" * 40), None)["urls"]["approve"]
    app_env.setenv(ENV_PURPOSE, "invoices")
    reset_app()
    answer = process_callback_handler(event_for(approve), None)
    assert (answer["statusCode"], answer_json(answer)["error"]) == (400, "InvalidPayload")


def test_kms_key(app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine) -> None:
    """KEY_ID seals with KMS envelope encryption; the blog flow works the same."""
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    app_env.delenv(ENV_KEY)
    app_env.setenv(ENV_KEY_ID, key_arn)
    reset_app()
    execution_arn, created = start_and_mint(approval_machine)
    answer = process_callback_handler(event_for(created["urls"]["approve"]), None)
    assert answer["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_kms_key_mints_and_local_keys_still_open(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """With KEY_ID and a local keyring, KMS mints and URLs of the local key keep working."""
    execution_arn, created = start_and_mint(approval_machine)
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    app_env.setenv(ENV_KEY_ID, key_arn)
    reset_app()
    assert len(get_app().settings.keyring) == 2
    answer = process_callback_handler(event_for(created["urls"]["approve"]), None)
    assert answer["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


# --- optional features ---------------------------------------------------------------------


def test_post_action(app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine) -> None:
    """With ENABLE_POST_ACTIONS, a POSTed JSON body becomes the task output."""
    app_env.setenv(ENV_ENABLE_POST_ACTIONS, "true")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    request = {
        "token": token,
        "actions": [
            {
                "name": "decide",
                "type": "post",
                "outcomes": [
                    {
                        "name": "ship",
                        "type": "success",
                        "schema": {"type": "object", "required": ["decision"]},
                        "output_body": True,
                    }
                ],
            }
        ],
    }
    url = create_urls_handler(request, None)["urls"]["decide"]
    body = json.dumps({"decision": "ship it"}).encode()
    for source in ("apigw_v1", "alb_multivalue"):
        get = process_callback_handler(event_for(url, source), None)
        assert get["statusCode"] == 405
    event = event_for(
        url,
        "alb_multivalue",
        method="POST",
        body=body,
        headers={"content-type": "application/json"},
    )
    answer = process_callback_handler(event, None)
    assert answer["statusCode"] == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"decision": "ship it"}


def test_output_parameters(app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine) -> None:
    """With ENABLE_OUTPUT_PARAMETERS, query parameters fill the output's templates."""
    app_env.setenv(ENV_ENABLE_OUTPUT_PARAMETERS, "yes")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    request = {
        "token": token,
        "enable_output_parameters": True,
        "actions": [{"name": "approve", "type": "success", "output": {"by": "$who"}}],
    }
    url = create_urls_handler(request, None)["urls"]["approve"]
    answer = process_callback_handler(event_for(url + "&who=Ada+L", "alb"), None)
    assert answer["statusCode"] == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"by": "Ada L"}


def test_confirm_get(app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine) -> None:
    """With CONFIRM_GET, a GET only asks; the POST it leads to completes the task."""
    app_env.setenv(ENV_CONFIRM_GET, "true")
    reset_app()
    execution_arn, created = start_and_mint(approval_machine)
    approve = created["urls"]["approve"]
    asked = process_callback_handler(event_for(approve), None)
    assert asked["statusCode"] == 200
    assert answer_json(asked)["confirm"] is True
    execution = approval_machine.wait_for_status(execution_arn, statuses={"RUNNING"})
    assert execution["status"] == "RUNNING"
    confirmed = process_callback_handler(event_for(approve, method="POST"), None)
    assert confirmed["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


# --- routing -------------------------------------------------------------------------------------


def test_other_paths_are_404(app_env: Any) -> None:
    """A function URL or ALB sends every path: only .../respond is the callback."""
    for source in ("function_url", "alb"):
        answer = process_callback_handler(
            event_for("https://example.invalid/favicon.ico", source), None
        )
        assert answer["statusCode"] == 404
        assert answer_json(answer)["error"] == "NotFound"


def test_non_http_event_for_callbacks(app_env: Any) -> None:
    """A direct invocation of the callback function is answered with an error, not a crash."""
    assert process_callback_handler({"hello": "world"}, None)["error"] == "UnsupportedEvent"


@pytest.mark.parametrize("request_json", [{"token": 1}, {"token": "t", "actions": "approve"}, []])
def test_json_that_is_not_a_valid_request_is_invalid_json_as_in_the_original(
    app_env: Any, request_json: Any
) -> None:
    """The ready app says InvalidJSON (direct and over HTTP); the library keeps InvalidRequest."""
    direct = create_urls_handler(request_json, None)
    over_http = answer_json(create_urls_handler(create_event(json.dumps(request_json)), None))
    assert direct["error"] == over_http["error"] == "InvalidJSON"
    assert direct["message"] == over_http["message"]
    with pytest.raises(InvalidRequest) as raised:
        parse_create_urls_request(request_json)
    assert type(raised.value) is InvalidRequest
    assert raised.value.message == direct["message"]
