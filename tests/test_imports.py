"""Cold start: what importing the package, and minting with a local key, loads."""

from __future__ import annotations

import subprocess
import sys

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
