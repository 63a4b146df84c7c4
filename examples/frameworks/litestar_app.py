"""Litestar: the callback endpoint as an async route handler (``uvicorn litestar_app:app``)."""

from litestar import HttpMethod, Litestar, Request, Response, route

from sfn_callback_urls import CallbackHandler, CallbackRequest, Codec

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)


@route("/respond", http_method=[HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST])
async def respond(request: Request) -> Response[bytes]:
    """Open the callback URL, complete the task and answer the page or JSON it asks for."""
    answer = await callbacks.handle_async(  # never handle() here: it would block the event loop
        CallbackRequest(
            method=request.method,
            query=request.url.query,
            headers=dict(request.headers),
            body=await request.body(),
            source_ip=request.client.host if request.client else None,
        )
    )
    return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))


app = Litestar(route_handlers=[respond])
