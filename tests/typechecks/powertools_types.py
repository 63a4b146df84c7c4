"""Checked by mypy --strict (`nox -s typecheck`), never run: Powertools objects fit our API."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from sfn_callback_urls import CallbackHandler, Codec, Minter
from sfn_callback_urls.adapters import powertools_response

logger = Logger(service="approvals")
codec = Codec.from_environment()
handler = CallbackHandler(codec, logger=logger)  # a Powertools Logger is LoggerLike
minter = Minter(codec, base_url="https://example.com/prod", logger=logger)
app = APIGatewayRestResolver()


@app.get("/respond")
def respond() -> Response[str]:
    """The documented one-line route, typed."""
    return powertools_response(handler, app.current_event)
