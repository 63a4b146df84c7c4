"""Flask: the callback endpoint as a view of your app (``flask --app flask_app run``)."""

from flask import Flask, Response, request

from sfn_callback_urls import CallbackHandler, CallbackRequest, Codec

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)
app = Flask(__name__)


@app.route("/respond", methods=["GET", "HEAD", "POST"])
def respond() -> Response:
    """Open the callback URL, complete the task and answer the page or JSON it asks for."""
    answer = callbacks.handle(
        CallbackRequest(
            method=request.method,
            query=request.query_string.decode("latin-1"),
            headers=dict(request.headers),
            body=request.get_data(),
            source_ip=request.remote_addr,
        )
    )
    return Response(answer.body, status=answer.status, headers=dict(answer.headers))
