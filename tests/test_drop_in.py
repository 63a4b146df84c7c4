"""Issue 12: the ready app as a drop-in for the original sfn-callback-urls app, on moto.

Part 1: with ``ACCEPT_ORIGINAL_URLS=true`` and the original stack's ``KEY_ID``, the callback
function opens URLs the original minted (``2-``: an aws-encryption-sdk message under the KMS key,
written by ``tests/original_format.py`` as the original's code did) and completes real moto
executions with them; everything else about them is refused as any forgery is.

Part 2: requests written for the original keep their meaning: naive expirations, the original's
environment variables, ``base_url`` objects, events without ``domainName``, ``InvalidJSON``,
transaction ids in error bodies, unknown fields inside actions, ``redirect`` with bodies,
templates in keys, ``error_path`` strings and ``output_path`` on a ``null`` body.

Everything goes through ``create_urls_handler`` and ``process_callback_handler``, invoked
directly or with API Gateway events (``tests/events``).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import pytest

from conftest import MotoClients  # tests/ is on sys.path
from helpers import (  # tests/ is on sys.path
    APP_BASE_URL,
    REGION,
    answer_json,
    blob_of,
    blog_request,
    callback_records,
    create_event,
    event_for,
)
from original_format import mint_original_url
from sfn_callback_urls import CallbackHandler, CallbackRequest, Codec, Completion, LocalKey
from sfn_callback_urls._config import (
    ENV_ACCEPT_ORIGINAL_URLS,
    ENV_API_ID,
    ENV_BASE_URL,
    ENV_DISABLE_OUTPUT_PARAMETERS,
    ENV_DISABLE_POST_ACTIONS,
    ENV_ENABLE_OUTPUT_PARAMETERS,
    ENV_ENABLE_POST_ACTIONS,
    ENV_KEY,
    ENV_KEY_ID,
    ENV_STAGE,
    ENV_VERBOSE,
    Settings,
)
from sfn_callback_urls._time import utcnow
from sfn_callback_urls.aws_lambda import (
    create_urls_handler,
    get_app,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.errors import ConfigurationError, InvalidPayload
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from mypy_boto3_kms.type_defs import KeyMetadataTypeDef

#: The ready app logs its mint and callback records here.
APP_LOGGER = "sfn_callback_urls.aws_lambda"
#: The original's transaction ids: uuid4().hex, 32 hex digits.
TID = "9d379e7c96464029b6fdef643cdcf420"
ISSUER = "arn:aws:lambda:us-east-1:123456789012:function:SfnCallbackUrls-CreateUrls"
APPROVE = {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}}
REJECT = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben rejected it"}
PRE_AUTH_MESSAGE = InvalidPayload().message
SEND_TASK = {"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"}


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def original_key(moto_sfn: MotoClients) -> KeyMetadataTypeDef:
    """The original stack's KMS key (moto)."""
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]


@pytest.fixture
def upgraded(app_env: pytest.MonkeyPatch, original_key: KeyMetadataTypeDef) -> pytest.MonkeyPatch:
    """The in-place upgrade: the original stack's KEY_ID (its ARN) and ACCEPT_ORIGINAL_URLS."""
    app_env.delenv(ENV_KEY)
    app_env.setenv(ENV_KEY_ID, original_key["Arn"])
    app_env.setenv(ENV_ACCEPT_ORIGINAL_URLS, "true")
    reset_app()
    return app_env


def original_url(
    token: str,
    action: dict[str, Any],
    key_id: str | None,
    *,
    expires_in: timedelta | None = timedelta(days=7),
    param: bool = False,
) -> str:
    """A callback URL as the original's create-URLs function returned it (``2-``, or ``1-``)."""
    now = utcnow().replace(microsecond=0)
    return mint_original_url(
        APP_BASE_URL,
        token,
        action,
        kms_key_id=key_id,
        iat=now - timedelta(hours=1),
        exp=None if expires_in is None else now + expires_in,
        param=param,
        tid=TID,
        iss=ISSUER,
    )


def click(url: str, source: str = "apigw_v1", **kwargs: Any) -> dict[str, Any]:
    """``process_callback_handler`` for a request to ``url`` from ``source``."""
    return process_callback_handler(event_for(url, source, **kwargs), None)


def refused(answer: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """Assert an error answer's status and code; return its body."""
    body = answer_json(answer)
    assert (answer["statusCode"], body["error"]) == (status, code), body
    return body


def completions(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The SendTask* operations among the recorded Step Functions calls."""
    return [name for name, _ in calls if name in SEND_TASK]


# --- part 1: the original's 2- URLs ----------------------------------------------------------


@pytest.mark.parametrize("source", ["apigw_v1", "apigw_v2", "alb"])
def test_original_success_url_completes_the_task(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    source: str,
) -> None:
    """An original approve URL completes the execution with its output, answering its own tid."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, original_key["Arn"])
    assert blob_of(url).startswith("2-")
    assert "%3D" in url  # padded base64url, as the original's urlencode wrote it

    answer = click(url, source)

    assert answer["statusCode"] == 200
    assert answer_json(answer) == {
        "transaction_id": TID,
        "action": {"name": "approve", "type": "success"},
    }
    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["output"] == {"name_in_output": "Ben"}


def test_original_failure_url_fails_the_task(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """An original reject URL fails the task with its error and cause (cause asserted on the call).

    moto drops ``cause`` from SendTaskFailure, so it is read from the recorded call.
    """
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    answer = click(original_url(token, REJECT, original_key["Arn"]))
    assert answer["statusCode"] == 200
    assert answer_json(answer)["action"] == {"name": "reject", "type": "failure"}
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"]["Error"] == "rejected"
    [(name, params)] = sfn_calls
    assert name == "SendTaskFailure"
    assert (params["error"], params["cause"]) == ("rejected", "Ben rejected it")


def test_original_heartbeat_url_keeps_the_task_alive(
    upgraded: Any,
    heartbeat_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """An original heartbeat URL sends a heartbeat; the task waits on, then an approve ends it."""
    execution_arn = heartbeat_machine.start("Ben")
    token, _ = heartbeat_machine.wait_for_token()
    beat = {"name": "still_thinking", "type": "heartbeat", "response": {"text": "noted"}}
    answer = click(original_url(token, beat, original_key["Arn"]), headers={"accept": "text/plain"})
    assert answer["statusCode"] == 200
    assert answer["body"] == "noted"
    assert completions(sfn_calls) == ["SendTaskHeartbeat"]
    running = heartbeat_machine.wait_for_status(execution_arn, statuses={"RUNNING"})
    assert running["status"] == "RUNNING"
    assert click(original_url(token, APPROVE, original_key["Arn"]))["statusCode"] == 200
    assert heartbeat_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_expired_original_url_is_expired_payload(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """Past its ``exp`` (plus our 30 s leeway) an original URL is 400 ExpiredPayload."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, original_key["Arn"], expires_in=timedelta(seconds=-31))
    refused(click(url), 400, "ExpiredPayload")
    within_leeway = original_url(
        token, APPROVE, original_key["Arn"], expires_in=timedelta(seconds=-20)
    )
    assert completions(sfn_calls) == []
    assert click(within_leeway)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_tampered_original_url_is_refused_without_calling_step_functions(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """One changed character of a 2- blob is 400 InvalidPayload, and no SendTask* call is made."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, original_key["Arn"])
    data = blob_of(url)
    for position in (2, len(data) // 2, len(data) - 5):
        changed = data[:position] + ("A" if data[position] != "A" else "B") + data[position + 1 :]
        body = refused(click(url.split("data=")[0] + "data=" + changed), 400, "InvalidPayload")
        assert body["message"] == PRE_AUTH_MESSAGE
    assert completions(sfn_calls) == []
    execution = approval_machine.wait_for_status(execution_arn, statuses={"RUNNING"})
    assert execution["status"] == "RUNNING"


def test_original_unencrypted_url_is_refused_even_with_the_opt_in(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """The original's ``1-`` URLs (anyone can write one) are 400 InvalidPayload, nothing sent."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, None)
    assert blob_of(url).startswith("1-")
    body = refused(click(url), 400, "InvalidPayload")
    assert body["message"] == PRE_AUTH_MESSAGE
    assert completions(sfn_calls) == []


def test_original_url_without_the_opt_in_is_refused(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """Without ACCEPT_ORIGINAL_URLS, a valid 2- URL is the same InvalidPayload as any forgery."""
    app_env.delenv(ENV_KEY)
    app_env.setenv(ENV_KEY_ID, original_key["Arn"])  # even with the very key it was made under
    reset_app()
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    body = refused(click(original_url(token, APPROVE, original_key["Arn"])), 400, "InvalidPayload")
    assert body["message"] == PRE_AUTH_MESSAGE
    assert completions(sfn_calls) == []
    assert get_app().callback_handler.original_kms_key_id is None


def test_original_url_under_another_key_is_refused(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """A 2- URL sealed under some other KMS key is InvalidPayload: one key, no discovery."""
    other = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    body = refused(click(original_url(token, APPROVE, other)), 400, "InvalidPayload")
    assert body["message"] == PRE_AUTH_MESSAGE
    assert completions(sfn_calls) == []


def test_original_url_with_a_mismatched_action_is_refused(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """The query's action/type must match the sealed ones, for the original's URLs too."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, original_key["Arn"])
    refused(click(url.replace("action=approve", "action=reject")), 400, "ActionMismatched")
    assert completions(sfn_calls) == []


def test_the_original_stacks_key_id_works_too(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
) -> None:
    """KEY_ID as the original's template set it (the key id, not the ARN) opens its URLs."""
    app_env.delenv(ENV_KEY)
    app_env.setenv(ENV_KEY_ID, original_key["KeyId"])
    app_env.setenv(ENV_ACCEPT_ORIGINAL_URLS, "TRUE")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    assert click(original_url(token, APPROVE, original_key["KeyId"]))["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_new_urls_are_always_minted_in_our_format(
    upgraded: Any, approval_machine: ApprovalMachine
) -> None:
    """With the opt-in, create_urls_handler still mints our own URLs, which work as usual."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler(blog_request(token), None)
    approve = created["urls"]["approve"]
    assert not blob_of(approve).startswith(("1-", "2-"))
    assert len(created["transaction_id"]) == 36
    assert click(approve)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_original_post_action_with_the_originals_switch(
    upgraded: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
) -> None:
    """An original POST action works where the original's DISABLE_POST_ACTIONS=false allows it."""
    upgraded.setenv(ENV_DISABLE_POST_ACTIONS, "false")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    action = {
        "name": "decide",
        "type": "post",
        "response": {"json": {"thanks": True}},
        "outcomes": [
            {
                "name": "ship",
                "type": "success",
                "schema": {"type": "object", "required": ["decision"]},
                "output_path": "$.decision",
            }
        ],
    }
    url = original_url(token, action, original_key["Arn"])
    refused(click(url), 405, "MethodNotAllowed")
    body = json.dumps({"decision": "ship it"}).encode()
    answer = click(url, method="POST", body=body, headers={"content-type": "application/json"})
    assert answer["statusCode"] == 200
    assert answer_json(answer) == {"thanks": True}
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == ["ship it"]


def test_original_url_with_output_parameters(
    upgraded: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
) -> None:
    """An original URL minted with parameters fills keys and values when they are enabled."""
    action = {
        "name": "approve",
        "type": "success",
        "output": {"$field": "by $who"},
        "response": {"redirect": "https://example.com/done"},
    }
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, action, original_key["Arn"], param=True) + "&who=Ada&field=approver"
    refused(click(url), 400, "ParametersDisabled")  # our default: off
    upgraded.setenv(ENV_DISABLE_OUTPUT_PARAMETERS, "0")  # the original's way of enabling them
    reset_app()
    answer = click(url)
    assert answer["statusCode"] == 303
    assert answer["headers"]["Location"] == "https://example.com/done"
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"approver": "by Ada"}


def test_original_urls_are_marked_in_the_log(
    upgraded: Any,
    approval_machine: ApprovalMachine,
    original_key: KeyMetadataTypeDef,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The log line of an original URL says so (to see when the opt-in can go); no token."""
    approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = original_url(token, APPROVE, original_key["Arn"])
    with caplog.at_level(logging.INFO, logger=APP_LOGGER):
        assert click(url)["statusCode"] == 200
    [line] = callback_records(caplog.records)
    assert line["original_url"] is True
    assert line["transaction_id"] == TID
    assert token not in caplog.text
    assert blob_of(url)[2:40] not in caplog.text


# --- part 1: configuration -------------------------------------------------------------------


def test_opt_in_without_key_id_is_a_configuration_error(app_env: pytest.MonkeyPatch) -> None:
    """ACCEPT_ORIGINAL_URLS without KEY_ID: every entry point says both names."""
    app_env.setenv(ENV_ACCEPT_ORIGINAL_URLS, "true")
    reset_app()
    direct = create_urls_handler(blog_request("t" * 40), None)
    callback = click(f"{APP_BASE_URL}/respond?action=a&type=heartbeat&data=2-AAAA")
    assert direct["error"] == "ConfigurationError"
    assert ENV_ACCEPT_ORIGINAL_URLS in direct["message"]
    assert ENV_KEY_ID in direct["message"]
    assert refused(callback, 500, "ConfigurationError") == direct


@pytest.mark.usefixtures("no_encryption_sdk")
def test_opt_in_without_the_extra_is_a_configuration_error(
    app_env: pytest.MonkeyPatch, original_key: KeyMetadataTypeDef
) -> None:
    """ACCEPT_ORIGINAL_URLS without aws-encryption-sdk says what to install."""
    app_env.delenv(ENV_KEY)
    app_env.setenv(ENV_KEY_ID, original_key["Arn"])
    app_env.setenv(ENV_ACCEPT_ORIGINAL_URLS, "true")
    reset_app()
    answer = click(f"{APP_BASE_URL}/respond?action=a&type=heartbeat&data=2-AAAA")
    body = refused(answer, 500, "ConfigurationError")
    assert "pip install 'sfn-callback-urls[original]'" in body["message"]
    assert ENV_ACCEPT_ORIGINAL_URLS in body["message"]
    with pytest.raises(ConfigurationError, match=r"sfn-callback-urls\[original\]"):
        Settings.from_environment({ENV_KEY_ID: "k", ENV_ACCEPT_ORIGINAL_URLS: "1"})


# --- part 2: expiration ----------------------------------------------------------------------


def test_naive_expiration_is_utc_and_echoed_with_z(
    app_env: Any, approval_machine: ApprovalMachine
) -> None:
    """A naive expiration (the only kind the original took) is UTC, direct and over HTTP."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    moment = (utcnow() + timedelta(days=3)).replace(microsecond=0, tzinfo=None)
    request = blog_request(token, expiration=moment.isoformat())
    direct = create_urls_handler(request, None)
    over_http = answer_json(create_urls_handler(create_event(json.dumps(request)), None))
    for created in (direct, over_http):
        assert created["expiration"] == moment.isoformat() + "Z"
        data = blob_of(created["urls"]["approve"])
        claims = get_app().codec.open(data)
        assert claims.expires_at is not None
        assert claims.expires_at.replace(tzinfo=None) == moment
    assert click(direct["urls"]["approve"])["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_naive_expiration_in_the_past_is_invalid_date_with_tid(app_env: Any) -> None:
    """A naive expiration an hour ago (UTC) is InvalidDate, and the error carries its tid."""
    past = (utcnow() - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    result = create_urls_handler(blog_request("t" * 40, expiration=past), None)
    assert list(result) == ["transaction_id", "error", "message"]
    assert result["error"] == "InvalidDate"


# --- part 2: the original's environment variables --------------------------------------------


POST_REQUEST_ACTION = {
    "name": "decide",
    "type": "post",
    "outcomes": [{"name": "ok", "type": "success", "schema": {}, "output_body": True}],
}


@pytest.mark.parametrize(
    ("disable", "enable", "enabled"),
    [
        (None, None, False),  # our secure default
        ("false", None, True),
        ("FALSE", None, True),
        ("0", None, True),
        ("true", None, False),
        ("1", None, False),
        ("no", None, False),  # the original disabled on anything but false/0
        ("false", "true", True),
        ("true", "false", False),
        (None, "true", True),
    ],
)
def test_disable_switches_as_the_original_read_them(
    disable: str | None, enable: str | None, enabled: bool
) -> None:
    """DISABLE_*: false/0 enables, anything else disables; unset leaves our ENABLE_* default."""
    environ = {ENV_KEY: LocalKey.generate().to_string()}
    for suffix in ("OUTPUT_PARAMETERS", "POST_ACTIONS"):
        if disable is not None:
            environ[f"DISABLE_{suffix}"] = disable
        if enable is not None:
            environ[f"ENABLE_{suffix}"] = enable
    settings = Settings.from_environment(environ)
    assert settings.enable_output_parameters is enabled
    assert settings.enable_post_actions is enabled


@pytest.mark.parametrize(("enable", "disable"), [("true", "true"), ("1", "yes"), ("false", "0")])
def test_contradicting_switches_name_both(enable: str, disable: str) -> None:
    """ENABLE_X and DISABLE_X saying opposite things is a ConfigurationError naming both."""
    for feature in ("OUTPUT_PARAMETERS", "POST_ACTIONS"):
        environ = {
            ENV_KEY: LocalKey.generate().to_string(),
            f"ENABLE_{feature}": enable,
            f"DISABLE_{feature}": disable,
        }
        with pytest.raises(ConfigurationError) as caught:
            Settings.from_environment(environ)
        assert f"ENABLE_{feature}" in caught.value.message
        assert f"DISABLE_{feature}" in caught.value.message


def test_an_unclear_disable_value_disables_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A DISABLE_* value other than true/1/false/0 disables, as the original, and says so."""
    environ = {ENV_KEY: LocalKey.generate().to_string(), ENV_DISABLE_POST_ACTIONS: "off"}
    with caplog.at_level(logging.WARNING):
        assert Settings.from_environment(environ).enable_post_actions is False
    assert ENV_DISABLE_POST_ACTIONS in caplog.text


def test_disable_post_actions_false_enables_them_end_to_end(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """DISABLE_POST_ACTIONS=false (the original's template when enabled) mints and runs them."""
    app_env.setenv(ENV_DISABLE_POST_ACTIONS, "false")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler({"token": token, "actions": [POST_REQUEST_ACTION]}, None)
    body = json.dumps({"ok": 1}).encode()
    answer = click(
        created["urls"]["decide"],
        method="POST",
        body=body,
        headers={"content-type": "application/json"},
    )
    assert answer["statusCode"] == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"ok": 1}


@pytest.mark.parametrize("value", [None, "true"])
def test_post_actions_stay_off_unless_enabled(
    app_env: pytest.MonkeyPatch, value: str | None
) -> None:
    """Unset (our default) or DISABLE_POST_ACTIONS=true: a post action is PostActionsDisabled."""
    if value is not None:
        app_env.setenv(ENV_DISABLE_POST_ACTIONS, value)
        reset_app()
    result = create_urls_handler({"token": "t" * 40, "actions": [POST_REQUEST_ACTION]}, None)
    assert result["error"] == "PostActionsDisabled"
    assert "transaction_id" in result


def test_contradiction_is_answered_by_the_app(app_env: pytest.MonkeyPatch) -> None:
    """The ready app answers the contradiction as a ConfigurationError naming both variables."""
    app_env.setenv(ENV_ENABLE_OUTPUT_PARAMETERS, "true")
    app_env.setenv(ENV_DISABLE_OUTPUT_PARAMETERS, "true")
    reset_app()
    result = create_urls_handler(blog_request("t" * 40), None)
    assert result["error"] == "ConfigurationError"
    assert ENV_ENABLE_OUTPUT_PARAMETERS in result["message"]
    assert ENV_DISABLE_OUTPUT_PARAMETERS in result["message"]


def test_api_id_and_stage_give_the_default_base_url(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """Without CALLBACK_BASE_URL, API_ID and STAGE (and the region) make the base URL."""
    app_env.delenv(ENV_BASE_URL)
    app_env.setenv(ENV_API_ID, "abcdef1234")
    app_env.setenv(ENV_STAGE, "v1")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler(blog_request(token), None)
    approve = created["urls"]["approve"]
    assert approve.startswith(
        "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/respond?action=approve&"
    )
    assert click(approve)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_callback_base_url_wins_over_api_id(app_env: pytest.MonkeyPatch) -> None:
    """CALLBACK_BASE_URL, when set, wins over API_ID and STAGE."""
    app_env.setenv(ENV_API_ID, "zzz")
    app_env.setenv(ENV_STAGE, "prod")
    reset_app()
    assert get_app().settings.base_url == APP_BASE_URL


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({ENV_API_ID: "abc"}, [ENV_API_ID, ENV_STAGE]),
        ({ENV_STAGE: "v1"}, [ENV_API_ID, ENV_STAGE]),
        ({ENV_API_ID: "abc", ENV_STAGE: "v1"}, ["AWS_REGION"]),
        (
            {ENV_API_ID: "evil.example/x", ENV_STAGE: "v1", "AWS_REGION": "us-east-1"},
            [ENV_API_ID],
        ),
    ],
)
def test_bad_api_id_and_stage_name_the_variables(environ: dict[str, str], names: list[str]) -> None:
    """Half of API_ID/STAGE, no region or an unsafe value is a ConfigurationError naming them."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_environment({ENV_KEY: LocalKey.generate().to_string(), **environ})
    for name in names:
        assert name in caught.value.message


def test_base_url_object_direct_and_over_http(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """A request's base_url as the original's object works as the string does; region default."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    request = blog_request(token, base_url={"api_id": "abcdef1234", "stage": "v1"})
    direct = create_urls_handler(request, None)
    assert direct["urls"]["approve"].startswith(f"{APP_BASE_URL}/respond?")
    other = blog_request(
        token, base_url={"api_id": "q1w2e3", "stage": "prod", "region": "eu-west-1"}
    )
    over_http = answer_json(create_urls_handler(create_event(json.dumps(other)), None))
    assert over_http["urls"]["reject"].startswith(
        "https://q1w2e3.execute-api.eu-west-1.amazonaws.com/prod/respond?"
    )
    assert click(direct["urls"]["approve"])["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


# --- part 2: events without domainName --------------------------------------------------------


def original_sample_event(body: dict[str, Any]) -> dict[str, Any]:
    """A POST /urls REST event shaped like the original's test event (no domainName)."""
    event = create_event(json.dumps(body))
    event["path"] = "/urls"
    context = event["requestContext"]
    for name in ("domainName", "domainPrefix", "path"):
        context.pop(name, None)
    context.update(stage="testStage", apiId="gy415nuibc")
    return event


def test_event_without_domain_name_uses_api_id_and_stage_variables(
    app_env: pytest.MonkeyPatch,
) -> None:
    """The original's sample event is answered: first with API_ID/STAGE, like CALLBACK_BASE_URL."""
    app_env.delenv(ENV_BASE_URL)
    app_env.setenv(ENV_API_ID, "abcdef1234")
    app_env.setenv(ENV_STAGE, "v1")
    reset_app()
    answer = create_urls_handler(original_sample_event(blog_request("t" * 40)), None)
    assert answer["statusCode"] == 200
    assert answer_json(answer)["urls"]["approve"].startswith(f"{APP_BASE_URL}/respond?")


def test_event_without_domain_name_uses_its_api_id_and_stage(app_env: pytest.MonkeyPatch) -> None:
    """Then the event's own apiId and stage with the function's region, as the original did."""
    app_env.delenv(ENV_BASE_URL)
    reset_app()
    answer = create_urls_handler(original_sample_event(blog_request("t" * 40)), None)
    assert answer["statusCode"] == 200
    assert answer_json(answer)["urls"]["approve"].startswith(
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/testStage/respond?"
    )


def test_event_without_api_id_uses_the_host_header(app_env: pytest.MonkeyPatch) -> None:
    """Then the Host header (with the stage), when the event has no apiId either."""
    app_env.delenv(ENV_BASE_URL)
    reset_app()
    event = original_sample_event(blog_request("t" * 40))
    del event["requestContext"]["apiId"]
    event["headers"]["Host"] = "callbacks.example.com"
    answer = create_urls_handler(event, None)
    assert answer["statusCode"] == 200
    assert answer_json(answer)["urls"]["approve"].startswith(
        "https://callbacks.example.com/testStage/respond?"
    )


@pytest.mark.parametrize("host", [None, "evil.example/path", "user@evil.example", ""])
def test_event_with_nothing_to_go_on_is_a_clear_configuration_error(
    app_env: pytest.MonkeyPatch, host: str | None
) -> None:
    """No domainName, apiId or usable Host: a ConfigurationError saying what to set, not a crash."""
    app_env.delenv(ENV_BASE_URL)
    reset_app()
    event = original_sample_event(blog_request("t" * 40))
    del event["requestContext"]["apiId"]
    event["headers"] = {"content-type": "application/json"}
    event["multiValueHeaders"] = {"content-type": ["application/json"]}
    if host is not None:
        event["headers"]["Host"] = host
    body = refused(create_urls_handler(event, None), 500, "ConfigurationError")
    assert ENV_BASE_URL in body["message"]
    assert ENV_API_ID in body["message"]


# --- part 2: error bodies ---------------------------------------------------------------------


def test_unparseable_body_is_invalid_json_with_a_tid(
    app_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A body that is not JSON is 400 InvalidJSON; its transaction id is also in the log line."""
    with caplog.at_level(logging.WARNING):
        answer = create_urls_handler(create_event('{"token": "t", '), None)
    body = refused(answer, 400, "InvalidJSON")
    assert list(body) == ["transaction_id", "error", "message"]
    assert body["transaction_id"] in caplog.text


@pytest.mark.parametrize(
    ("request_json", "code"),
    [
        (
            {"token": "t", "actions": [{"name": "a", "type": "heartbeat"}] * 2},
            "DuplicateActionName",
        ),
        ({"token": "t", "actions": [{"name": "a", "type": "nope"}]}, "InvalidJSON"),
        (
            {
                "token": "t",
                "actions": [{"name": "a", "type": "heartbeat"}],
                "enable_output_parameters": True,
            },
            "ParametersDisabled",
        ),
    ],
)
def test_request_errors_carry_the_transaction_id(
    app_env: Any, request_json: dict[str, Any], code: str
) -> None:
    """Direct and HTTP error bodies start with a fresh transaction id, as the original's did."""
    direct = create_urls_handler(request_json, None)
    over_http = refused(
        create_urls_handler(create_event(json.dumps(request_json)), None), 400, code
    )
    for body in (direct, over_http):
        assert list(body) == ["transaction_id", "error", "message"]
        assert body["error"] == code
        assert len(body["transaction_id"]) == 36
    assert direct["transaction_id"] != over_http["transaction_id"]


# --- part 2: what a request may say -----------------------------------------------------------


def test_unknown_fields_inside_actions_are_ignored_end_to_end(
    app_env: Any, approval_machine: ApprovalMachine, caplog: pytest.LogCaptureFixture
) -> None:
    """Extra fields in an action and its response are ignored (one warning); the URL works."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    approve = {**APPROVE, "description": "Approve it", "response": {"text": "ok", "color": "g"}}
    with caplog.at_level(logging.WARNING):
        created = create_urls_handler({"token": token, "actions": [approve, REJECT]}, None)
    assert set(created) == {"transaction_id", "urls"}
    assert "actions.0.description" in caplog.text
    assert "actions.0.response.color" in caplog.text
    answer = click(created["urls"]["approve"], headers={"accept": "text/plain"})
    assert (answer["statusCode"], answer["body"]) == (200, "ok")
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_unknown_top_level_fields_are_still_refused(app_env: Any) -> None:
    """The request itself stays strict, as the original's schema was."""
    result = create_urls_handler(blog_request("t" * 40, callback="x"), None)
    assert result["error"] == "InvalidJSON"  # the original's code for a schema failure
    assert "callback" in result["message"]


def test_redirect_with_bodies_redirects(app_env: Any, approval_machine: ApprovalMachine) -> None:
    """A response with redirect and json/html/text is minted, and the click answers 303."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    response = {"redirect": "https://example.com/thanks", "json": {"a": 1}, "html": "<p>x</p>"}
    created = create_urls_handler(
        {"token": token, "actions": [{**APPROVE, "response": response}]}, None
    )
    answer = click(created["urls"]["approve"], headers={"accept": "text/html"})
    assert answer["statusCode"] == 303
    assert answer["headers"]["Location"] == "https://example.com/thanks"
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


def test_templates_fill_keys_end_to_end(
    app_env: pytest.MonkeyPatch, approval_machine: ApprovalMachine
) -> None:
    """With output parameters on, ``$name`` in a key of the output is filled too."""
    app_env.setenv(ENV_DISABLE_OUTPUT_PARAMETERS, "false")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    request = {
        "token": token,
        "enable_output_parameters": True,
        "actions": [{"name": "vote", "type": "success", "output": {"$choice": "${who}"}}],
    }
    url = create_urls_handler(request, None)["urls"]["vote"]
    assert click(url + "&choice=yes&who=Ada")["statusCode"] == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"yes": "Ada"}


def test_error_path_strings_and_null_output_path_end_to_end(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """error_path gives the original's exact JSON text; output_path on a null body gives null."""
    app_env.setenv(ENV_ENABLE_POST_ACTIONS, "true")
    reset_app()
    action = {
        "name": "report",
        "type": "post",
        "outcomes": [
            {"name": "none", "type": "success", "schema": {"type": "null"}, "output_path": "$"},
            {
                "name": "bad",
                "type": "failure",
                "schema": {},
                "error_path": "$.e",
                "cause_path": "$.c[*]",
            },
        ],
    }
    headers = {"content-type": "application/json"}
    first = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    url = create_urls_handler({"token": token, "actions": [action]}, None)["urls"]["report"]
    answer = click(url, method="POST", body=b"null", headers=headers)
    assert answer["statusCode"] == 200
    # The task succeeded with null (the machine's next step, an SQS message of $.output, then
    # fails in moto on the null body: that is the machine's business, not ours).
    assert [params["output"] for name, params in sfn_calls if name == "SendTaskSuccess"] == ["null"]
    approval_machine.wait_for_status(first)

    second = approval_machine.start("Ada")
    token, _ = approval_machine.wait_for_token()
    url = create_urls_handler({"token": token, "actions": [action]}, None)["urls"]["report"]
    body = json.dumps({"e": {"bar": "baz"}, "c": ["a", "\u00e9"]}).encode()
    assert click(url, method="POST", body=body, headers=headers)["statusCode"] == 200
    approval_machine.wait_for_status(second)
    [params] = [params for name, params in sfn_calls if name == "SendTaskFailure"]
    assert params["error"] == '[{"bar": "baz"}]'
    assert params["cause"] == '["a", "\\u00e9"]'


# --- part 2: VERBOSE --------------------------------------------------------------------------


def test_verbose_adds_debug_details_but_never_secrets(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """VERBOSE=true logs what was minted and clicked in detail; no token, blob or key."""
    app_env.setenv(ENV_VERBOSE, "true")
    reset_app()
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler(blog_request(token), None)
    answer = click(created["urls"]["approve"] + "&note=hello")
    assert answer["statusCode"] == 200
    approval_machine.wait_for_status(execution_arn)
    minted = [r for r in caplog.records if r.getMessage().startswith("create-URLs details ")]
    assert len(minted) == 1
    assert created["transaction_id"] in minted[0].getMessage()
    [line] = callback_records(caplog.records)
    assert line["params"] == ["note"]
    assert line["media_type"] == "application/json"
    assert line["issued_at"]
    blob = blob_of(created["urls"]["approve"])
    for secret in (token, blob[:40], "hello", os.environ[ENV_KEY]):
        assert secret not in caplog.text
    reset_app()
    assert not logging.getLogger(APP_LOGGER).isEnabledFor(logging.DEBUG)


def test_without_verbose_log_lines_stay_short(
    app_env: Any, approval_machine: ApprovalMachine, caplog: pytest.LogCaptureFixture
) -> None:
    """Without VERBOSE, the callback's log line has no debug details."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler(blog_request(token), None)
    with caplog.at_level(logging.INFO, logger=APP_LOGGER):
        assert click(created["urls"]["approve"])["statusCode"] == 200
    approval_machine.wait_for_status(execution_arn)
    [line] = callback_records(caplog.records)
    assert "params" not in line
    assert "media_type" not in line
    assert not [r for r in caplog.records if r.getMessage().startswith("create-URLs ")]


# --- the library's equivalent: CallbackHandler(original_kms_key_id=...) -----------------------


def test_callback_handler_opens_original_urls_for_library_users(
    moto_sfn: MotoClients, original_key: KeyMetadataTypeDef
) -> None:
    """CallbackHandler(original_kms_key_id=, original_kms_client=) completes an original URL."""
    kms = boto3.client("kms", region_name=REGION)
    sent: list[Completion] = []
    handler = CallbackHandler(
        Codec(LocalKey.generate()),
        original_kms_key_id=original_key["Arn"],
        original_kms_client=kms,
        complete=sent.append,
    )
    assert handler.original_kms_key_id == original_key["Arn"]
    assert original_key["Arn"] in repr(handler)
    url = original_url("a-task-token", APPROVE, original_key["Arn"])
    response = handler.handle(CallbackRequest("GET", urlsplit(url).query))
    assert response.status == 200
    assert json.loads(response.body)["transaction_id"] == TID
    assert sent == [Completion.success("a-task-token", {"name_in_output": "Ben"})]
    plain = CallbackHandler(Codec(LocalKey.generate()), complete=sent.append)
    assert plain.original_kms_key_id is None
    assert plain.handle(CallbackRequest("GET", urlsplit(url).query)).status == 400
    assert len(sent) == 1


def test_a_kms_client_without_a_key_id_is_a_configuration_error() -> None:
    """original_kms_client alone is a mistake worth saying, not silently ignored."""
    with pytest.raises(ConfigurationError, match="original_kms_key_id"):
        CallbackHandler(Codec(LocalKey.generate()), original_kms_client=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CallbackHandler(Codec(LocalKey.generate()), original_kms_key_id=" ")
