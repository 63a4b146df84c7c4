"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import importlib.util
import logging
import random
import re
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from sfn_callback_urls._handler import LOG_FIELDS

# --- test data ---------------------------------------------------------------------------------

#: The region of moto's account (the ``aws_env`` fixture sets it).
REGION = "us-east-1"
#: How real task tokens start (the rest is opaque).
_TOKEN_START = bytes.fromhex("0000002a00000002") + bytes(8)


def synthetic_token(seed: int = 512) -> str:
    """A task token shaped like AWS's (moto's are 36-character uuids), the same for one ``seed``.

    Standard base64 of 512 bytes: 684 characters with ``+``, ``/`` and one ``=``, starting as real
    tokens do (``AAAAKgAAAAIAAAAAAAAAA``), the rest incompressible.
    """
    rest = random.Random(seed).randbytes(512 - len(_TOKEN_START))  # noqa: S311 - test data
    return base64.b64encode(_TOKEN_START + rest).decode("ascii")


#: The benchmark's token (``tests/vectors/v1.json`` seals it too).
BENCH_TOKEN = synthetic_token()

# --- fakes -------------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock (the KMS caches' ``clock=``) that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


# --- logs --------------------------------------------------------------------------------------


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of one of the handler's log records."""
    return {name: getattr(record, name) for name in LOG_FIELDS if hasattr(record, name)}


def callback_records(records: Iterable[logging.LogRecord]) -> list[dict[str, Any]]:
    """The fields of every callback record among ``records`` (a handler's, or the app's)."""
    return [record_fields(r) for r in records if getattr(r, "event", None) == "callback"]


# --- Markdown snippets -------------------------------------------------------------------------


_SNIPPET = re.compile(
    r'^(?P<indent>[ \t]*)```python title="(?P<name>[\w.]+)"\n(?P<code>.*?)^(?P=indent)```',
    re.DOTALL | re.MULTILINE,
)


def markdown_snippets(path: Path) -> dict[str, str]:
    """The titled Python blocks (```python title="name.py"```) of a Markdown page, by name.

    Blocks inside tabs or admonitions are indented: the indentation is removed.
    """
    text = path.read_text(encoding="utf-8")
    return {
        match["name"]: textwrap.dedent(
            "".join(
                line[len(match["indent"]) :] if line.strip() else "\n"
                for line in match["code"].splitlines(keepends=True)
            )
        )
        for match in _SNIPPET.finditer(text)
    }


def load_snippet(directory: Path, name: str, code: str) -> ModuleType:
    """Write ``code`` to ``directory/name`` and import it as a fresh module."""
    path = directory / name
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"snippet_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module
