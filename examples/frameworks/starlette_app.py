"""Starlette: the library's ASGI app, mounted under /callbacks (``uvicorn starlette_app:app``)."""

from starlette.applications import Starlette
from starlette.routing import Mount

from sfn_callback_urls import CallbackHandler, Codec
from sfn_callback_urls.adapters import make_asgi_app

callbacks = CallbackHandler(Codec.from_environment(), confirm_get=True)
# The ASGI app answers .../respond and runs the handler in a worker thread (handle_async).
app = Starlette(routes=[Mount("/callbacks", app=make_asgi_app(callbacks))])
