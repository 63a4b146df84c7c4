"""Any other framework: turn its request into a CallbackRequest, its answer into a response."""

from sfn_callback_urls import CallbackHandler, CallbackRequest, CallbackResponse, Codec

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)


def respond(method: str, query: str, headers: dict[str, str], body: bytes) -> CallbackResponse:
    """Call this from your framework's view for .../respond (async code: ``handle_async``).

    From ``async`` code, await ``callbacks.handle_async(...)`` instead: ``handle`` blocks.
    Build your framework's response from the three parts every framework takes:
    ``answer.status`` (an int), ``answer.headers`` (a mapping of str to str) and
    ``answer.body`` (bytes), e.g. Flask's ``Response(answer.body, answer.status,
    dict(answer.headers))``.
    """
    return callbacks.handle(CallbackRequest(method=method, query=query, headers=headers, body=body))
