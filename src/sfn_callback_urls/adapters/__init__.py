"""Framework adapters: HTTP requests in, `CallbackRequest` out, and the answer back.

Each adapter only translates; every decision is the handler's.

- `make_wsgi_app()` (PEP 3333) and `make_asgi_app()` (ASGI 3): standard library only; any path
  ending in ``/respond`` goes to the handler, every other path is a 404 JSON answer;
- `event_to_request()` / `response_to_event()`: API Gateway REST (v1) and HTTP API (v2) events,
  Lambda function URLs and ALB target-group events (the source is detected, `EventSource`);
- `powertools_response()`: one line in a Powertools for AWS Lambda resolver's route.

Submodules load on first use, so a Lambda function pays for neither ``asyncio`` nor
``wsgiref``:

```python
handler = CallbackHandler(Codec.from_environment())

def lambda_handler(event, context):
    return response_to_event(handler.handle(event_to_request(event)), event)
```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._common import SupportsHandle

if TYPE_CHECKING:
    from ._asgi import make_asgi_app
    from ._lambda_events import EventSource, event_to_request, response_to_event
    from ._powertools import powertools_response
    from ._wsgi import make_wsgi_app

__all__ = [
    "EventSource",
    "SupportsHandle",
    "event_to_request",
    "make_asgi_app",
    "make_wsgi_app",
    "powertools_response",
    "response_to_event",
]

_LAZY = {
    "EventSource": "_lambda_events",
    "event_to_request": "_lambda_events",
    "response_to_event": "_lambda_events",
    "make_wsgi_app": "_wsgi",
    "make_asgi_app": "_asgi",
    "powertools_response": "_powertools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
