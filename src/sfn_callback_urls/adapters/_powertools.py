"""Answering from a Powertools for AWS Lambda event handler route with a callback handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._common import SupportsHandle
from ._lambda_events import event_to_request

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

__all__ = ["powertools_response"]


def powertools_response(handler: SupportsHandle, event: Any) -> Response[str]:
    """The answer of ``handler`` to a Powertools route's event, as a Powertools ``Response``.

    One line in any Powertools resolver (REST or HTTP API, function URL, ALB):

    ```python
    app = APIGatewayRestResolver()
    handler = CallbackHandler(Codec.from_environment())

    @app.route("/respond", method=["GET", "HEAD", "POST"])
    def respond():
        return powertools_response(handler, app.current_event)
    ```

    Args:
        handler: a `CallbackHandler` (or anything with its ``handle``).
        event: the route's ``app.current_event`` (any Powertools event data class), or the raw
            event dict.

    Raises:
        UnsupportedEvent: the event is not from API Gateway, a function URL or an ALB.
    """
    from aws_lambda_powertools.event_handler import Response

    raw = getattr(event, "raw_event", event)
    if not isinstance(raw, Mapping):
        raise TypeError("powertools_response() needs a Powertools event or an event dict")
    answer = handler.handle(event_to_request(raw))
    headers: dict[str, str | list[str]] = dict(answer.headers)
    # Text, as Powertools serializes it: its JSON serializer refuses bytes bodies. Every body
    # the handler renders is UTF-8 text (JSON, HTML or plain text).
    return Response(
        status_code=answer.status,
        body=answer.body.decode("utf-8", "replace"),
        headers=headers,
    )
