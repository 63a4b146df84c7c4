"""docs/powertools.md: every snippet runs as written, on moto, with the library's behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from helpers import load_event, load_snippet, markdown_snippets  # tests/ is on sys.path
from sfn_callback_urls import LocalKey
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "powertools.md"
CONTEXT = SimpleNamespace(
    function_name="approvals",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:approvals",
    memory_limit_in_mb=128,
    aws_request_id="d6c1f1d2-0000-4000-8000-000000000000",
    log_group_name="/aws/lambda/approvals",
    log_stream_name="stream",
    get_remaining_time_in_millis=lambda: 30_000,
)


def snippets() -> dict[str, str]:
    """The titled Python blocks of the page, by file name."""
    return markdown_snippets(DOC)


def test_the_page_has_the_three_snippets() -> None:
    """The test below runs every snippet the page shows (none is left out)."""
    assert sorted(snippets()) == ["callbacks.py", "create_urls.py", "mint_once.py"]


@pytest.fixture
def load(
    tmp_path: Path,
    moto_sfn: MotoClients,
    monkeypatch: pytest.MonkeyPatch,
    fresh_default_client: None,
) -> Any:
    """Import a snippet as a module, with a local key and moto in the environment."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", LocalKey.generate().to_string())
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "approvals")

    def load_doc_snippet(name: str) -> ModuleType:
        return load_snippet(tmp_path, name, snippets()[name])

    return load_doc_snippet


def rest_event(path: str, method: str, **extra: Any) -> dict[str, Any]:
    """The sample REST event for ``method path`` with JSON answers."""
    event = load_event("apigw_v1")
    event.update(path=path, httpMethod=method, resource=path, **extra)
    event["requestContext"].update(path=f"/prod{path}", httpMethod=method)
    event["headers"]["Accept"] = "application/json"
    event["multiValueHeaders"]["Accept"] = ["application/json"]
    return event


def test_callbacks_snippet_completes_a_real_execution_and_logs_fields(
    load: Any,
    approval_machine: ApprovalMachine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The route snippet approves a waiting execution; the Powertools log line has the fields."""
    callbacks = load("callbacks.py")
    execution = approval_machine.start()
    token, _ = approval_machine.wait_for_token()
    minter_codec = callbacks.handler.codec
    from sfn_callback_urls import Minter, SuccessAction

    url = (
        Minter(minter_codec, base_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod")
        .mint(token, [SuccessAction(name="approve", output={"name_in_output": "Ben"})])
        .urls["approve"]
    )
    query = dict(pair.split("=", 1) for pair in url.split("?", 1)[1].split("&"))
    event = rest_event(
        "/respond",
        "GET",
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()},
    )
    result = callbacks.lambda_handler(event, CONTEXT)
    assert result["statusCode"] == 200
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [record] = [r for r in records if r.get("event") == "callback"]
    assert record["outcome"] == "completed"
    assert (record["action"], record["type"], record["status"]) == ("approve", "success", 200)
    assert record["service"] == "approvals"
    assert token not in out
    assert query["data"] not in out


def test_create_urls_snippet_parses_the_body_into_the_model(load: Any) -> None:
    """The parser snippet mints from an API Gateway body; its URLs open with the same key."""
    create_urls = load("create_urls.py")
    body = {"token": "T" * 40, "actions": [{"name": "ok", "type": "heartbeat"}]}
    result = create_urls.lambda_handler(rest_event("/urls", "POST", body=json.dumps(body)), CONTEXT)
    [url] = result["urls"].values()
    assert url.startswith("https://callbacks.example.com/prod/respond?action=ok&type=heartbeat")
    from sfn_callback_urls import open_callback

    assert open_callback(create_urls.minter.codec, url).claims.token == "T" * 40


def test_mint_once_snippet_gives_a_retry_the_same_urls(load: Any) -> None:
    """The idempotency snippet: the same request twice, one mint, the same URLs; another differs."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="IdempotencyTable",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    mint_once = load("mint_once.py")
    mint_once.config.register_lambda_context(CONTEXT)
    from sfn_callback_urls import CreateUrlsRequest

    request = CreateUrlsRequest.model_validate(
        {"token": "T" * 40, "actions": [{"name": "ok", "type": "heartbeat"}]}
    )
    first = mint_once.mint(request=request)
    again = mint_once.mint(request=request)
    other = mint_once.mint(request=request.model_copy(update={"token": "U" * 40}))
    assert again == first
    assert other.urls != first.urls
    stored = dynamodb.scan(TableName="IdempotencyTable")["Items"]
    assert len(stored) == 2
    assert not any("T" * 40 in json.dumps(item) for item in stored)
