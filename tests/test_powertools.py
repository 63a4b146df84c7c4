"""Powertools for AWS Lambda: our handler answering from a resolver route, in one line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aws_lambda_powertools.event_handler import (
    ALBResolver,
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    LambdaFunctionUrlResolver,
)
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from helpers import load_event, synthetic_token  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    Codec,
    Completion,
    FailureAction,
    LocalKey,
    Minter,
    SuccessAction,
)
from sfn_callback_urls.adapters import powertools_response
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

CODEC = Codec(LocalKey.generate())
MINTER = Minter(CODEC, base_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod")
TOKEN = synthetic_token()
APPROVE = SuccessAction(name="approve", output={"ok": True})
REJECT = FailureAction(name="reject", error="rejected", cause="no")


def resolver_app(resolver: ApiGatewayResolver, handler: CallbackHandler) -> ApiGatewayResolver:
    """``resolver`` with the documented one-line route."""

    @resolver.route("/respond", method=["GET", "HEAD", "POST"])
    def respond() -> Any:
        return powertools_response(handler, resolver.current_event)

    return resolver


def event_for(name: str, url: str, method: str = "GET") -> dict[str, Any]:
    """The sample event ``name`` asking for ``url``'s query, with the path Powertools routes."""
    event = load_event(name)
    query = dict(parse_qsl(urlsplit(url).query))
    if name == "apigw_v1":
        event.update(path="/respond", httpMethod=method)
        event["requestContext"].update(path="/prod/respond", httpMethod=method)
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    elif name in ("apigw_v2", "function_url"):
        event["rawPath"] = "/respond"
        event["requestContext"]["http"].update(path="/respond", method=method)
        event["rawQueryString"] = urlsplit(url).query
        event["queryStringParameters"] = query
        event.pop("stage", None)
        event["requestContext"]["stage"] = "$default"
    else:  # alb
        event.update(path="/respond", httpMethod=method, queryStringParameters=query)
    set_header(event, "Accept", "application/json")
    return event


def set_header(event: dict[str, Any], name: str, value: str) -> None:
    """Set one header in whichever header maps the event has."""
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if headers is not None:
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = [value] if key == "multiValueHeaders" else value


class Sent:
    """Records the completions a handler sends, in place of Step Functions."""

    def __init__(self) -> None:
        self.completions: list[Completion] = []

    def __call__(self, completion: Completion) -> None:
        """Record ``completion``."""
        self.completions.append(completion)


@pytest.mark.parametrize(
    ("resolver", "event_name"),
    [
        (APIGatewayRestResolver, "apigw_v1"),
        (APIGatewayHttpResolver, "apigw_v2"),
        (LambdaFunctionUrlResolver, "function_url"),
        (ALBResolver, "alb"),
    ],
)
def test_one_line_route_completes_in_every_resolver(
    resolver: type[ApiGatewayResolver], event_name: str
) -> None:
    """Each Powertools resolver answers with the handler's status, JSON body and headers."""
    sent = Sent()
    app = resolver_app(resolver(), CallbackHandler(CODEC, complete=sent))
    url = MINTER.mint(TOKEN, [APPROVE, REJECT]).urls["approve"]
    result = app.resolve(event_for(event_name, url), {})
    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert body["action"] == {"name": "approve", "type": "success"}
    headers = result.get("headers") or {
        name: values[0] for name, values in result["multiValueHeaders"].items()
    }
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"
    assert [(c.type, c.output) for c in sent.completions] == [("success", {"ok": True})]


def test_refusals_keep_their_status_and_error_body() -> None:
    """A tampered URL is the handler's 400 InvalidPayload, and nothing is sent."""
    sent = Sent()
    app = resolver_app(APIGatewayRestResolver(), CallbackHandler(CODEC, complete=sent))
    url = MINTER.mint(TOKEN, [APPROVE]).urls["approve"]
    result = app.resolve(event_for("apigw_v1", url[:-4] + "AAAA"), {})
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"] == "InvalidPayload"
    assert sent.completions == []


def test_html_answers_are_text_not_bytes() -> None:
    """An HTML answer comes back as text: Powertools' serializer never sees bytes."""
    app = resolver_app(APIGatewayRestResolver(), CallbackHandler(CODEC, complete=Sent()))
    url = MINTER.mint(TOKEN, [APPROVE]).urls["approve"]
    event = event_for("apigw_v1", url)
    set_header(event, "Accept", "text/html")
    result = app.resolve(event, {})
    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is False
    assert result["body"].startswith("<!DOCTYPE html>")


def test_a_real_execution_ends_through_a_powertools_route(
    moto_sfn: MotoClients, approval_machine: ApprovalMachine
) -> None:
    """Clicking the reject link through a Powertools route fails the real task; Catch runs."""
    execution = approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    handler = CallbackHandler(CODEC, stepfunctions_client=moto_sfn.stepfunctions)
    app = resolver_app(APIGatewayRestResolver(), handler)
    url = MINTER.mint(token, [APPROVE, REJECT]).urls["reject"]
    assert app.resolve(event_for("apigw_v1", url), {})["statusCode"] == 200
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"]["Error"] == "rejected"
