"""EAGER_INIT: the ready Lambda app does its first invocation's heavy work while Lambda inits it.

Each test runs the app in a fresh interpreter, as Lambda does, against a moto server on
loopback with a real execution waiting: what happens at import (init) and at the first call is
recorded by the AWS operations each makes and the botocore sessions built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from helpers import event_for, moto_child_environ  # tests/ is on sys.path
from sfn_callback_urls import Codec, KmsEnvelopeKey, Minter, SuccessAction
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoServer

CALLBACK = "sfn_callback_urls.aws_lambda.process_callback_handler"
CREATE_URLS = "sfn_callback_urls.aws_lambda.create_urls_handler"
PURPOSE = "eager-init-test"

# Records every AWS operation and session, by phase; a fake `snapshot_restore_py` (the Lambda
# runtime's SnapStart hooks) keeps what the app registers, run as if a snapshot were taken.
_CHILD = """
import json, logging, sys
import botocore.client, botocore.session

records = []


class Recording(logging.Handler):
    def emit(self, record):
        if record.name.startswith("sfn_callback_urls"):
            records.append(record.getMessage())


logging.getLogger().addHandler(Recording())
logging.getLogger().setLevel(logging.DEBUG)

phase = "init"
calls = {"init": [], "first": []}
sessions = {"init": 0, "first": 0}
clients = {"init": [], "first": []}
_call = botocore.client.BaseClient._make_api_call
_init = botocore.session.Session.__init__
_create = botocore.session.Session.create_client


def recording_call(self, operation, params):
    calls[phase].append(operation)
    return _call(self, operation, params)


def counting(self, *args, **kwargs):
    sessions[phase] += 1
    _init(self, *args, **kwargs)


def recording_client(self, service, *args, **kwargs):
    clients[phase].append(service)
    return _create(self, service, *args, **kwargs)


botocore.client.BaseClient._make_api_call = recording_call
botocore.session.Session.create_client = recording_client
botocore.session.Session.__init__ = counting
import snapshot_restore_py
import sfn_callback_urls.aws_lambda as app

boto3 = "boto3" in sys.modules
init_records = list(records)
for hook in snapshot_restore_py.BEFORE_SNAPSHOT:  # the snapshot is taken here
    hook()
phase = "first"
handler = getattr(app, sys.argv[1].rpartition(".")[2])
answer = handler(json.loads(sys.stdin.read()), None)
print(json.dumps({
    "calls": calls, "sessions": sessions, "clients": clients, "boto3": boto3,
    "hooks": len(snapshot_restore_py.BEFORE_SNAPSHOT), "answer": answer,
    "init_records": init_records,
}))
"""

_FAKE_HOOKS = """
BEFORE_SNAPSHOT = []


def register_before_snapshot(hook):
    BEFORE_SNAPSHOT.append(hook)
"""

#: A create-URLs request with a real-length token: one approve link.
CREATE_REQUEST: Final = {
    "token": "A" * 684,
    "actions": [{"name": "approve", "type": "success", "output": {}}],
}


def run_function(
    server: MotoServer, tmp_path: Path, handler: str, event: Any, **variables: str
) -> dict[str, Any]:
    """Import the app and invoke ``handler`` once in a fresh interpreter; what it reported."""
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "snapshot_restore_py.py").write_text(_FAKE_HOOKS, encoding="utf-8")
    environ = moto_child_environ(
        server.endpoint_url,
        tmp_path,
        PYTHONPATH=str(hooks),
        SFN_CALLBACK_URLS_PURPOSE=PURPOSE,
        CALLBACK_BASE_URL="https://example.invalid/v1",
        _HANDLER=handler,
        **variables,
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _CHILD, handler],
        input=json.dumps(event),
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_an_eager_callback_function_builds_its_clients_and_describes_its_key_at_init(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """At init: one session, both clients, DescribeKey; the click: Decrypt and the send only.

    The connections are closed before the (simulated) snapshot, and the click after it still
    completes the waiting execution.
    """
    key_arn = moto_server.kms.create_key()["KeyMetadata"]["Arn"]
    minter = Minter(
        Codec(KmsEnvelopeKey(key_arn, client=moto_server.kms), purpose=PURPOSE),
        "https://example.invalid/v1",
    )
    with ApprovalMachine(moto_server.stepfunctions, moto_server.sqs) as machine:
        execution = machine.start(name="Ben")
        token, _ = machine.wait_for_token(timeout=30)
        url = minter.mint(token, [SuccessAction(name="approve", output={})]).urls["approve"]
        report = run_function(
            moto_server, tmp_path, CALLBACK, event_for(url), EAGER_INIT="true", KEY_ID=key_arn
        )
        assert machine.wait_for_status(execution)["status"] == "SUCCEEDED"
    assert report["calls"] == {"init": ["DescribeKey"], "first": ["Decrypt", "SendTaskSuccess"]}
    assert report["sessions"] == {"init": 1, "first": 0}
    assert report["clients"] == {"init": ["kms", "stepfunctions"], "first": []}
    assert report["boto3"] is False
    assert report["hooks"] == 1
    assert report["init_records"] == []  # the rehearsal at init logs nothing
    assert report["answer"]["statusCode"] == 200


def test_an_eager_create_urls_function_prepares_its_side_only(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """The create-URLs function describes its key at init, and builds no Step Functions client."""
    key_arn = moto_server.kms.create_key()["KeyMetadata"]["Arn"]
    report = run_function(
        moto_server, tmp_path, CREATE_URLS, CREATE_REQUEST, EAGER_INIT="true", KEY_ID=key_arn
    )
    assert report["calls"] == {"init": ["DescribeKey"], "first": ["GenerateDataKey"]}
    assert report["clients"] == {"init": ["kms"], "first": []}  # no Step Functions client
    assert report["boto3"] is False
    assert report["init_records"] == []
    assert report["answer"]["urls"]["approve"].startswith("https://example.invalid/v1/respond?")


def test_without_eager_init_nothing_happens_at_import(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """Unset (the library's default), the import makes no AWS call and registers no hook."""
    key_arn = moto_server.kms.create_key()["KeyMetadata"]["Arn"]
    report = run_function(moto_server, tmp_path, CREATE_URLS, CREATE_REQUEST, KEY_ID=key_arn)
    assert report["calls"] == {"init": [], "first": ["GenerateDataKey"]}
    assert report["sessions"] == {"init": 0, "first": 1}
    assert report["hooks"] == 0


def test_an_eager_init_that_fails_leaves_the_answer_to_the_first_invocation(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """An unknown key: init logs and goes on; the invocation answers the contract's error."""
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    report = run_function(
        moto_server, tmp_path, CREATE_URLS, CREATE_REQUEST, EAGER_INIT="true", KEY_ID=missing
    )
    assert report["calls"]["init"] == ["DescribeKey"]
    assert report["answer"]["error"] == "KeyUnavailable"
    no_key = run_function(moto_server, tmp_path, CREATE_URLS, CREATE_REQUEST, EAGER_INIT="true")
    assert no_key["calls"]["init"] == []
    assert no_key["answer"]["error"] == "ConfigurationError"
