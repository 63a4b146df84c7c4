"""Cold start: what importing the package, minting, and a first callback load and build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import event_for, moto_child_environ  # tests/ is on sys.path
from sfn_callback_urls import Codec, KmsEnvelopeKey, Minter, SuccessAction
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoServer

HEAVY = ("boto3", "botocore", "jsonschema", "jsonpath_ng")

_MINT = """
import sys
from datetime import timedelta
from sfn_callback_urls import Codec, LocalKey, Minter, SuccessAction
import sfn_callback_urls.aws_lambda
codec = Codec(LocalKey.generate())
url = Minter(codec, "https://example.com/prod").mint(
    "AAAAKgAAAAIAAAAAAAAAAQ" * 30, [SuccessAction(name="approve", output={"ok": True})],
    expires_in=timedelta(days=7),
).urls["approve"]
assert url.startswith("https://example.com/prod/respond?action=approve&type=success&data=")
print(",".join(name for name in HEAVY if name in sys.modules))
"""


def test_minting_with_a_local_key_loads_no_aws_or_schema_library() -> None:
    """A fresh interpreter that imports the package and aws_lambda and mints loads none of them."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{_MINT}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


_MINT_ONLY = """
import sys
from datetime import timedelta
import sfn_callback_urls
from sfn_callback_urls import Codec, LocalKey, Minter, SuccessAction
codec = Codec(LocalKey.generate())
Minter(codec, "https://example.com/prod").mint(
    "AAAAKgAAAAIAAAAAAAAAAQ" * 30, [SuccessAction(name="approve", output={"ok": True})],
    expires_in=timedelta(days=7),
)
CALLBACK_SIDE = ("_handler", "_render", "_outcome", "_complete", "_original")
print(",".join(m for m in CALLBACK_SIDE if f"sfn_callback_urls.{m}" in sys.modules))
from sfn_callback_urls import CallbackHandler, complete
assert sfn_callback_urls.CallbackResponse.__name__ == "CallbackResponse"
assert sfn_callback_urls.Completion.__name__ == "Completion"
assert "CallbackHandler" in dir(sfn_callback_urls)
print(CallbackHandler.__module__, complete.__module__)
"""


def test_a_process_that_only_mints_never_loads_the_callback_side() -> None:
    """The handler, rendering, outcomes and completion load on first use, through the root."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _MINT_ONLY],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "",
        "sfn_callback_urls._handler sfn_callback_urls._complete",
    ]


_FIRST_CALLBACK = """
import json, sys
import botocore.session

sessions = []
_init = botocore.session.Session.__init__


def counting(self, *args, **kwargs):
    sessions.append(type(self).__module__)
    _init(self, *args, **kwargs)


botocore.session.Session.__init__ = counting
from sfn_callback_urls.aws_lambda import process_callback_handler

answer = process_callback_handler(json.loads(sys.stdin.read()), None)
LOADED = ("boto3", "s3transfer", "multiprocessing")
print(json.dumps({
    "status": answer["statusCode"],
    "loaded": [name for name in LOADED if name in sys.modules],
    "sessions": len(sessions),
}))
"""


def test_the_ready_callbacks_first_call_loads_no_boto3_and_builds_one_session(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """A fresh callback function's first click completes the task with one botocore session.

    KMS key, a real waiting execution on a moto server; its KMS and Step Functions clients
    share the session, and no boto3, s3transfer or multiprocessing loads in the process.
    """
    key_arn = moto_server.kms.create_key()["KeyMetadata"]["Arn"]
    purpose = "cold-start-test"
    minter = Minter(
        Codec(KmsEnvelopeKey(key_arn, client=moto_server.kms), purpose=purpose),
        "https://example.invalid/v1",
    )
    with ApprovalMachine(moto_server.stepfunctions, moto_server.sqs) as machine:
        execution = machine.start(name="Ben")
        token, _ = machine.wait_for_token(timeout=30)
        url = minter.mint(token, [SuccessAction(name="approve", output={"ok": True})]).urls[
            "approve"
        ]
        environ = moto_child_environ(
            moto_server.endpoint_url, tmp_path, KEY_ID=key_arn, SFN_CALLBACK_URLS_PURPOSE=purpose
        )
        done = subprocess.run(  # noqa: S603 - our interpreter, our code
            [sys.executable, "-c", _FIRST_CALLBACK],
            input=json.dumps(event_for(url)),
            env=environ,
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert machine.wait_for_status(execution)["status"] == "SUCCEEDED"
    assert report == {"status": 200, "loaded": [], "sessions": 1}
