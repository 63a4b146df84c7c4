"""Helpers for testing code that uses sfn-callback-urls.

The hypothesis strategies of `sfn_callback_urls.testing.strategies` are re-exported here
(``from sfn_callback_urls.testing import claims``) and imported lazily, so the other helpers of
this package work without hypothesis installed; using a strategy without it raises an
``ImportError`` that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .strategies import (
        action_names,
        actions,
        claims,
        create_urls_requests,
        failure_actions,
        heartbeat_actions,
        json_values,
        post_actions,
        response_specs,
        success_actions,
        task_tokens,
    )

__all__ = [
    "action_names",
    "actions",
    "claims",
    "create_urls_requests",
    "failure_actions",
    "heartbeat_actions",
    "json_values",
    "post_actions",
    "response_specs",
    "success_actions",
    "task_tokens",
]

_STRATEGIES = frozenset(__all__)


def __getattr__(name: str) -> Any:
    if name in _STRATEGIES:
        # strategies.py raises an ImportError naming the extra to install if hypothesis is missing.
        module = importlib.import_module(".strategies", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
