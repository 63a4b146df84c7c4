"""sfn_callback_urls.testing.moto_server(): a moto server on loopback that runs executions.

The walk of docs/local-testing.md: start the server, build the approval machine on it, mint, click
through a callback handler whose Step Functions client is the server, see the execution end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from helpers import REGION  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    LocalKey,
    Minter,
    SuccessAction,
)
from sfn_callback_urls.testing import ApprovalMachine, configure_moto_server, moto_server


@pytest.fixture
def server(aws_env: None) -> Iterator[str]:
    """A moto server started by the helper."""
    with moto_server() as url:
        yield url


def test_a_clicked_link_completes_an_execution_on_the_server(server: str) -> None:
    """On the helper's server, executions run: a click through the handler succeeds one."""
    sfn = boto3.client("stepfunctions", region_name=REGION, endpoint_url=server)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=server)
    codec = Codec(LocalKey.generate())
    with ApprovalMachine(sfn, sqs) as machine:
        execution = machine.start("Ben")
        token, _ = machine.wait_for_token()
        url = (
            Minter(codec, base_url="http://127.0.0.1:8080")
            .mint(token, [SuccessAction(name="approve", output={"ok": True})])
            .urls["approve"]
        )
        handler = CallbackHandler(codec, stepfunctions_client=sfn)
        answer = handler.handle(CallbackRequest("GET", url.split("?", 1)[1]))
        assert answer.status == 200
        described = machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"ok": True}


def test_configuring_a_running_server_is_idempotent(server: str) -> None:
    """configure_moto_server() on a server already running executions keeps it running them."""
    configure_moto_server(server)
    sfn = boto3.client("stepfunctions", region_name=REGION, endpoint_url=server)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=server)
    with ApprovalMachine(sfn, sqs) as machine:
        machine.start("Ben")
        token, request = machine.wait_for_token()  # only an execution that runs sends it
    assert token
    assert request["name_in_input"] == "Ben"


def test_configure_refuses_other_schemes() -> None:
    """Only http(s) endpoints are configured: never a file: or other URL."""
    with pytest.raises(ValueError, match="http"):
        configure_moto_server("file:///etc")
