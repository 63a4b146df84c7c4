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
