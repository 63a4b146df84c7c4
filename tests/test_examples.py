"""The examples: both SAM templates pass cfn-lint, and the approval e-mail's glue code works."""

from __future__ import annotations

import importlib.util
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sfn_callback_urls import LocalKey
from sfn_callback_urls._complete import reset_default_client
from sfn_callback_urls._config import ENV_KEY
from sfn_callback_urls._handler import CallbackRequest
from sfn_callback_urls.aws_lambda import (
    ENV_BASE_URL,
    create_urls_handler,
    get_app,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.testing import ApprovalMachine

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEMPLATES = [EXAMPLES / "template.yaml", EXAMPLES / "approval_email" / "template.yaml"]
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"
URL = re.compile(r"https://\S+/respond\?\S+")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_template_passes_cfn_lint(template: Path) -> None:
    """cfn-lint (with the SAM transform) finds no error and no warning."""
    api = pytest.importorskip(
        "cfnlint.api", reason="cfn-lint is not installed: pip install 'sfn-callback-urls[tests]'"
    )
    matches = api.lint(template.read_text(encoding="utf-8"))
    assert [str(match) for match in matches] == []


def test_the_app_template_wires_the_handlers() -> None:
    """The template deploys this package's two handlers with the documented variables."""
    text = (EXAMPLES / "template.yaml").read_text(encoding="utf-8")
    assert "Handler: sfn_callback_urls.aws_lambda.create_urls_handler" in text
    assert "Handler: sfn_callback_urls.aws_lambda.process_callback_handler" in text
    assert "Runtime: python3.12" in text
    for variable in (
        "KEY_ID",
        "SFN_CALLBACK_URLS_PURPOSE",
        "CALLBACK_BASE_URL",
        "ENABLE_OUTPUT_PARAMETERS",
        "ENABLE_POST_ACTIONS",
        "CONFIRM_GET",
    ):
        assert f"{variable}:" in text


# --- the approval e-mail's glue function -----------------------------------------------------


class FakeLambda:
    """Invokes the create-URLs handler in process, as Lambda would invoke the deployed one."""

    def __init__(self) -> None:
        self.function_names: list[str] = []

    def invoke(self, FunctionName: str, Payload: str) -> dict[str, Any]:
        """Lambda's Invoke: the handler's result as the payload stream."""
        self.function_names.append(FunctionName)
        result = create_urls_handler(json.loads(Payload), None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


class FakeSns:
    """Records what would have been e-mailed."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **message: Any) -> dict[str, str]:
        """SNS Publish."""
        self.published.append(message)
        return {"MessageId": str(len(self.published))}


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch, moto_sfn: Any) -> Iterator[ModuleType]:
    """The glue module, with the create-URLs app configured and fake Lambda and SNS clients."""
    monkeypatch.setenv(ENV_KEY, LocalKey.generate().to_string())
    monkeypatch.setenv(ENV_BASE_URL, BASE_URL)
    monkeypatch.setenv("CREATE_URLS_FUNCTION_NAME", "SfnCallbackUrls-CreateUrlsFunction")
    monkeypatch.setenv("TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:approvals")
    reset_app()
    reset_default_client()
    spec = importlib.util.spec_from_file_location(
        "approval_email_glue", EXAMPLES / "approval_email" / "glue" / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lambda_client, sns_client = FakeLambda(), FakeSns()
    monkeypatch.setattr(module, "lambda_client", lambda: lambda_client)
    monkeypatch.setattr(module, "sns_client", lambda: sns_client)
    yield module
    reset_app()
    reset_default_client()


def click(url: str) -> int:
    """Open a callback URL through the deployed app's callback handler; its status."""
    return get_app().callback_handler.handle(CallbackRequest("GET", url.split("?", 1)[1])).status


def test_glue_approval_email_flow(glue: ModuleType, approval_machine: ApprovalMachine) -> None:
    """The glue e-mails working approve/reject links, then the confirmation."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()

    assert (
        glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": token}, None)
        == {}
    )

    sns = glue.sns_client()
    request_mail = sns.published[0]
    assert request_mail["Subject"] == glue.SUBJECT_REQUEST
    assert request_mail["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:approvals"
    assert request_mail["Message"].startswith("Hello Ben,")
    approve, reject = URL.findall(request_mail["Message"])
    assert "action=approve&type=success" in approve
    assert "action=reject&type=failure" in reject
    assert glue.lambda_client().function_names == ["SfnCallbackUrls-CreateUrlsFunction"]

    assert click(approve) == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
    output = approval_machine.confirmation()
    assert output == {"name_in_output": "Ben"}

    glue.handler({"state": "SendConfirmation", "output": output}, None)
    confirmation = sns.published[1]
    assert confirmation["Subject"] == glue.SUBJECT_DONE
    assert confirmation["Message"] == "Hello Ben,\n\nYour task is complete.\n"


def test_glue_rejection_email(glue: ModuleType) -> None:
    """A caught rejection's cause is e-mailed."""
    glue.handler(
        {"state": "SendConfirmation", "output": {"Error": "rejected", "Cause": "Ben rejected it"}},
        None,
    )
    assert (
        glue.sns_client()
        .published[0]["Message"]
        .endswith("Your task was rejected: Ben rejected it\n")
    )


def test_glue_request_expires_in_a_week(glue: ModuleType) -> None:
    """The glue's request is the blog's, plus an expiration a week ahead."""
    request = glue.create_urls_request("token", "Ben")
    assert [action["name"] for action in request["actions"]] == ["approve", "reject"]
    assert request["actions"][1]["cause"] == "Ben rejected it"
    created = create_urls_handler(request, None)
    assert set(created) == {"transaction_id", "urls", "expiration"}


def test_glue_fails_the_task_on_create_errors(
    glue: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error from the create-URLs function raises, so the task fails instead of waiting."""
    monkeypatch.delenv(ENV_KEY)
    reset_app()
    with pytest.raises(RuntimeError, match="ConfigurationError"):
        glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": "t"}, None)
    assert glue.sns_client().published == []


def test_glue_unknown_state(glue: ModuleType) -> None:
    """Any other state is a bug in the state machine."""
    with pytest.raises(ValueError, match="Unknown state"):
        glue.handler({"state": "Elsewhere"}, None)


def test_deployed_handler_answers_the_glue_links(
    glue: ModuleType, approval_machine: ApprovalMachine
) -> None:
    """The links also work through process_callback_handler, as API Gateway delivers them."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": token}, None)
    approve = URL.findall(glue.sns_client().published[0]["Message"])[0]
    query = approve.split("?", 1)[1]
    event = {
        "httpMethod": "GET",
        "path": "/respond",
        "headers": {"Accept": "application/json"},
        "multiValueQueryStringParameters": None,
        "queryStringParameters": dict(item.split("=", 1) for item in query.split("&")),
        "requestContext": {"stage": "v1", "path": "/v1/respond"},
        "body": None,
        "isBase64Encoded": False,
    }
    assert process_callback_handler(event, None)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
