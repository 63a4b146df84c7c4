"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sfn_callback_urls._handler import LOG_FIELDS, LOGGER_NAME


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of one of the handler's log records."""
    return {name: getattr(record, name) for name in LOG_FIELDS if hasattr(record, name)}


def callback_records(records: Iterable[logging.LogRecord]) -> list[dict[str, Any]]:
    """The fields of every callback record among ``records``."""
    return [record_fields(r) for r in records if r.name == LOGGER_NAME]
