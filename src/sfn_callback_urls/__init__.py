"""Stateless, encrypted or signed callback URLs that complete AWS Step Functions tasks.

Mint URLs anywhere:

```python
codec = Codec.from_environment()    # SFN_CALLBACK_URLS_KEY, or KEY_ID for a KMS key
minter = Minter(codec, base_url="https://example.com/callbacks")
urls = minter.mint(token, [SuccessAction(name="approve", output={"ok": True})],
                   expires_in=timedelta(days=7))
```

and open them in any web handler with `CallbackHandler` (or just verify them with
`open_callback()`). Framework adapters live in `sfn_callback_urls.adapters`, the ready Lambda
functions in `sfn_callback_urls.aws_lambda`, every error in `sfn_callback_urls.errors`, the
key backends in `sfn_callback_urls.keys` and hypothesis strategies for your own tests in
`sfn_callback_urls.testing`.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from ._approval import ConfirmPage
from ._claims import Claims
from ._codec import Codec, Mode
from ._logging import LoggerLike, quiet_aws_loggers
from ._models import (
    Action,
    CreateUrlsRequest,
    CreateUrlsResponse,
    FailureAction,
    FailureOutcome,
    HeartbeatAction,
    HeartbeatOutcome,
    PostAction,
    ResponseSpec,
    SuccessAction,
    SuccessOutcome,
)
from ._theme import PageTheme, PageWords
from ._urls import Minter, OpenedCallback, open_callback
from ._validation import parse_action
from .errors import (
    ConfigurationError,
    ExpiredPayload,
    InvalidPayload,
    InvalidRequest,
    SfnCallbackUrlsError,
    TaskAlreadyCompleted,
)
from .keys import Keyring, KmsDerivedKey, KmsEnvelopeKey, LocalKey

if _typing.TYPE_CHECKING:
    from ._complete import Completion, complete
    from ._email import ApprovalEmail, EmailTheme, EmailWords, approval_email
    from ._handler import CallbackHandler, CallbackRequest, CallbackResponse

#: Loaded on first use: a process that only mints never imports the callback side (the
#: handler, rendering, outcomes, Step Functions calls), a tenth of a cold mint's imports.
_LAZY = {
    "CallbackHandler": "._handler",
    "CallbackRequest": "._handler",
    "CallbackResponse": "._handler",
    "Completion": "._complete",
    "complete": "._complete",
    "ApprovalEmail": "._email",
    "EmailTheme": "._email",
    "EmailWords": "._email",
    "approval_email": "._email",
}

__all__ = [
    "Action",
    "ApprovalEmail",
    "CallbackHandler",
    "CallbackRequest",
    "CallbackResponse",
    "Claims",
    "Codec",
    "Completion",
    "ConfigurationError",
    "ConfirmPage",
    "CreateUrlsRequest",
    "CreateUrlsResponse",
    "EmailTheme",
    "EmailWords",
    "ExpiredPayload",
    "FailureAction",
    "FailureOutcome",
    "HeartbeatAction",
    "HeartbeatOutcome",
    "InvalidPayload",
    "InvalidRequest",
    "Keyring",
    "KmsDerivedKey",
    "KmsEnvelopeKey",
    "LocalKey",
    "LoggerLike",
    "Minter",
    "Mode",
    "OpenedCallback",
    "PageTheme",
    "PageWords",
    "PostAction",
    "ResponseSpec",
    "SfnCallbackUrlsError",
    "SuccessAction",
    "SuccessOutcome",
    "TaskAlreadyCompleted",
    "approval_email",
    "complete",
    "open_callback",
    "parse_action",
    "quiet_aws_loggers",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module, __name__), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("sfn-callback-urls")
        except PackageNotFoundError:  # run from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
