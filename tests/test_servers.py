"""The WSGI and ASGI apps under real HTTP servers on loopback, with the same behaviour tests.

WSGI runs under ``wsgiref.simple_server``, ASGI under uvicorn, each in a thread on 127.0.0.1 with
an ephemeral port; the client is ``urllib.request``; Step Functions is moto with real executions.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from helpers import Answer, serve_wsgi  # tests/ is on sys.path
from sfn_callback_urls import Codec, FailureAction, LocalKey, Minter, PostAction, SuccessAction
from sfn_callback_urls._handler import CallbackHandler
from sfn_callback_urls._models import SuccessOutcome
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app
from sfn_callback_urls.testing import ApprovalMachine

# No proxy from the environment may stand between the tests and loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
START_TIMEOUT = 10.0


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str = "application/json",
) -> Answer:
    """One request with urllib; HTTP errors are answers too."""
    headers = {"Accept": accept}
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - http://127.0.0.1 only
    try:
        with OPENER.open(request, timeout=10) as response:
            return Answer(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, _lower(error.headers.items()), error.read())


def _serve_wsgi(app: Any) -> Iterator[str]:
    with serve_wsgi(app) as (host, port):
        yield f"http://{host}:{port}"


def _serve_asgi(app: Any) -> Iterator[str]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        http="h11",
        ws="none",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


@dataclass
class Deployment:
    """A running server and what mints URLs for it."""

    root: str
    minter: Minter


@pytest.fixture(params=["wsgi", "asgi"])
def deployment(request: pytest.FixtureRequest, moto_sfn: Any) -> Iterator[Deployment]:
    """The callback handler behind a real server (WSGI or ASGI), mounted under /callbacks."""
    codec = Codec(LocalKey.generate(), purpose="server-tests")
    handler = CallbackHandler(
        codec, stepfunctions_client=moto_sfn.stepfunctions, enable_post_actions=True
    )
    serve = _serve_wsgi if request.param == "wsgi" else _serve_asgi
    make_app = make_wsgi_app if request.param == "wsgi" else make_asgi_app
    for root in serve(make_app(handler, max_body_size=64 * 1024)):
        yield Deployment(root=root, minter=Minter(codec, base_url=f"{root}/callbacks"))


def blog_urls(deployment: Deployment, machine: ApprovalMachine) -> tuple[str, dict[str, str]]:
    """Start an execution and mint the blog's approve/reject URLs for it."""
    execution_arn = machine.start("Ben")
    token, _ = machine.wait_for_token()
    urls = deployment.minter.mint(
        token,
        [
            SuccessAction(name="approve", output={"name_in_output": "Ben"}),
            FailureAction(name="reject", error="rejected", cause="Ben rejected it"),
        ],
    ).urls
    return execution_arn, urls


def test_approve_completes(deployment: Deployment, approval_machine: ApprovalMachine) -> None:
    """A GET on the approve URL answers 200 and the execution succeeds with the output."""
    execution_arn, urls = blog_urls(deployment, approval_machine)
    answer = fetch(urls["approve"])
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["action"] == {"name": "approve", "type": "success"}
    execution = approval_machine.wait_for_status(execution_arn)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["output"] == {"name_in_output": "Ben"}


def test_reject_completes(deployment: Deployment, approval_machine: ApprovalMachine) -> None:
    """A GET on the reject URL fails the task with the blog's error (caught by the machine)."""
    execution_arn, urls = blog_urls(deployment, approval_machine)
    assert fetch(urls["reject"]).status == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"]["Error"] == "rejected"


def test_tampered_is_400(deployment: Deployment, approval_machine: ApprovalMachine) -> None:
    """A URL with one changed character is 400 InvalidPayload and completes nothing."""
    execution_arn, urls = blog_urls(deployment, approval_machine)
    url = urls["approve"]
    index = len(url) - 20
    tampered = url[:index] + ("A" if url[index] != "A" else "B") + url[index + 1 :]
    answer = fetch(tampered)
    assert (answer.status, answer.json()["error"]) == (400, "InvalidPayload")
    execution = approval_machine.wait_for_status(execution_arn, statuses={"RUNNING"})
    assert execution["status"] == "RUNNING"


def test_second_click_is_409(deployment: Deployment, approval_machine: ApprovalMachine) -> None:
    """Clicking approve after the execution finished is 409 TaskAlreadyCompleted."""
    execution_arn, urls = blog_urls(deployment, approval_machine)
    assert fetch(urls["approve"]).status == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
    again = fetch(urls["approve"])
    assert (again.status, again.json()["error"]) == (409, "TaskAlreadyCompleted")


def test_post_action_json_body(deployment: Deployment, approval_machine: ApprovalMachine) -> None:
    """A POST action takes a JSON body; the matching outcome's output is the body."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    action = PostAction(
        name="decide",
        outcomes=[
            SuccessOutcome(
                name="ship",
                schema={"type": "object", "required": ["decision"]},  # type: ignore[call-arg]
                output_body=True,
            )
        ],
    )
    url = deployment.minter.mint(token, [action]).urls["decide"]
    assert fetch(url).status == 405
    wrong = fetch(url, method="POST", body=b'{"other": 1}', content_type="application/json")
    assert (wrong.status, wrong.json()["error"]) == (400, "InvalidPostActionBody")
    body = json.dumps({"decision": "ship it", "by": "Ben"}).encode()
    answer = fetch(url, method="POST", body=body, content_type="application/json")
    assert answer.status == 200
    execution = approval_machine.wait_for_status(execution_arn)
    assert json.loads(execution["output"])["output"] == {"decision": "ship it", "by": "Ben"}


def test_unknown_path_is_404(deployment: Deployment) -> None:
    """Anything but .../respond is 404 NotFound."""
    for path in ("/", "/callbacks", "/callbacks/respond/extra", "/favicon.ico"):
        answer = fetch(deployment.root + path)
        assert (answer.status, answer.json()["error"]) == (404, "NotFound")


def test_large_body_is_413(deployment: Deployment) -> None:
    """A body over the app's cap is refused with 413 before the handler sees it."""
    url = f"{deployment.root}/callbacks/respond?data=x"
    answer = fetch(url, method="POST", body=b"x" * (64 * 1024 + 1), content_type="text/plain")
    assert (answer.status, answer.json()["error"]) == (413, "PayloadTooLarge")


def test_missing_data_is_400(deployment: Deployment) -> None:
    """The callback path without a blob is 400, not a crash."""
    answer = fetch(f"{deployment.root}/callbacks/respond")
    assert (answer.status, answer.json()["error"]) == (400, "InvalidPayload")
