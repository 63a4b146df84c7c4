"""The framework-neutral callback handler: :class:`CallbackRequest` in, :class:`CallbackResponse` out.

Adapters (API Gateway, function URLs, ALB, WSGI, ASGI) only translate their events into a
:class:`CallbackRequest` and the :class:`CallbackResponse` back; all the logic lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallbackHandler", "CallbackRequest", "CallbackResponse"]


@dataclass(frozen=True)
class CallbackRequest:
    """An HTTP request to the callback endpoint, as any framework sees it.

    Attributes:
        method: the HTTP method, upper case.
        query: the raw query string (without ``?``), or already-parsed single values.
        headers: header names in any case (looked up case-insensitively).
        body: the raw body bytes (already base64-decoded by the adapter).
    """

    method: str
    query: str | Mapping[str, str] = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class CallbackResponse:
    """What the handler answers: status, headers and a body (bytes)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class CallbackHandler:
    """Opens callback URLs, completes the task and renders the answer (to be implemented)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def handle(self, request: CallbackRequest) -> CallbackResponse:
        """Handle one request; never raises."""
        raise NotImplementedError
