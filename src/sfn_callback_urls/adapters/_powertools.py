"""Answering from a Powertools for AWS Lambda event handler route with a callback handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._handler import CallbackRequest, CallbackResponse
from ._lambda_events import event_to_request

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

__all__ = ["powertools_response"]


class _SupportsLambdaHandle(Protocol):
    """A `CallbackHandler` (or a fake): ``handle`` takes the Lambda context for its budget."""

    def handle(
        self, request: CallbackRequest, *, lambda_context: object | None = None
    ) -> CallbackResponse:
        """Answer one request; never raises."""
        ...


def powertools_response(
    handler: _SupportsLambdaHandle, event: Any, lambda_context: object | None = None
) -> Response[str]:
    """The answer of ``handler`` to a Powertools route's event, as a Powertools ``Response``.

    One line in any Powertools resolver (REST or HTTP API, function URL, ALB):

    ```python
    app = APIGatewayRestResolver()
    handler = CallbackHandler(Codec.from_environment())

    @app.route("/respond", method=["GET", "HEAD", "POST"])
    def respond():
        return powertools_response(handler, app.current_event, app.lambda_context)
    ```

    Args:
        handler: a `CallbackHandler` (or anything with its ``handle``).
        event: the route's ``app.current_event`` (any Powertools event data class), or the raw
            event dict.
        lambda_context: the resolver's ``app.lambda_context``: the AWS calls then end a second
            before the function would time out (see `CallbackHandler.handle`), so that the
            person gets our 503 page rather than API Gateway's bare error. Without it, only
            the handler's own ``budget`` bounds them.

    Raises:
        UnsupportedEvent: the event is not from API Gateway, a function URL or an ALB.
    """
    from aws_lambda_powertools.event_handler import Response

    raw = getattr(event, "raw_event", event)
    if not isinstance(raw, Mapping):
        raise TypeError("powertools_response() needs a Powertools event or an event dict")
    answer = handler.handle(event_to_request(raw), lambda_context=lambda_context)
    headers: dict[str, str | list[str]] = dict(answer.headers)
    # Text, as Powertools serializes it: its JSON serializer refuses bytes bodies. Every body
    # the handler renders is UTF-8 text (JSON, HTML or plain text).
    return Response(
        status_code=answer.status,
        body=answer.body.decode("utf-8", "replace"),
        headers=headers,
    )
