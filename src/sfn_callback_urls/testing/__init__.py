"""Helpers for testing code that uses sfn-callback-urls.

- hypothesis strategies for every value the library handles (``from sfn_callback_urls.testing
  import claims, actions, ...``), imported lazily: the other helpers work without hypothesis, and
  using a strategy without it raises an ``ImportError`` that says what to install;
- `ApprovalMachine`: the approval state machine of the original blog post on any boto3 clients
  (moto's in tests), to complete real executions with your callback URLs;
- `moto_server()`: a moto server on loopback that really runs executions, and
  `configure_moto_server()` for one already running.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._moto_server import EXECUTE_STATE_MACHINES, configure_moto_server, moto_server
    from ._stepfunctions import ApprovalMachine
    from ._strategies import (
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
    "EXECUTE_STATE_MACHINES",
    "ApprovalMachine",
    "action_names",
    "actions",
    "claims",
    "configure_moto_server",
    "create_urls_requests",
    "failure_actions",
    "heartbeat_actions",
    "json_values",
    "moto_server",
    "post_actions",
    "response_specs",
    "success_actions",
    "task_tokens",
]

_MOTO_SERVER = frozenset({"EXECUTE_STATE_MACHINES", "configure_moto_server", "moto_server"})
_STRATEGIES = frozenset(__all__) - {"ApprovalMachine"} - _MOTO_SERVER


def __getattr__(name: str) -> Any:
    if name in _STRATEGIES:
        # _strategies raises an ImportError naming the extra to install if hypothesis is missing.
        module = importlib.import_module("._strategies", __name__)
        return getattr(module, name)
    if name in _MOTO_SERVER:
        return getattr(importlib.import_module("._moto_server", __name__), name)
    if name == "ApprovalMachine":
        return importlib.import_module("._stepfunctions", __name__).ApprovalMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
