"""FastAPI: the callback endpoint as an async route of your app (``uvicorn fastapi_app:app``)."""

from fastapi import FastAPI, Request, Response

from sfn_callback_urls import CallbackHandler, CallbackRequest, Codec

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)
app = FastAPI()


@app.api_route("/respond", methods=["GET", "HEAD", "POST"], include_in_schema=False)
async def respond(request: Request) -> Response:
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
