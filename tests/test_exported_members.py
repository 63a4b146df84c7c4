"""The public API: exactly what each public module exports, documented, nothing more.

A change here is a change of the public API: say it in CHANGELOG.md.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import sfn_callback_urls

PUBLIC_API: dict[str, list[str]] = {
    "sfn_callback_urls": [
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
    ],
    "sfn_callback_urls.adapters": [
        "EventSource",
        "SupportsHandle",
        "event_to_request",
        "make_asgi_app",
        "make_wsgi_app",
        "powertools_response",
        "response_to_event",
    ],
    "sfn_callback_urls.aws_lambda": [
        "App",
        "create_urls_handler",
        "get_app",
        "process_callback_handler",
        "reset_app",
    ],
    "sfn_callback_urls.keys": [
        "DataKey",
        "KeyBackend",
        "Keyring",
        "KmsDerivedKey",
        "KmsEnvelopeKey",
        "LocalKey",
        "load_wrapped_keyring",
        "wrap_keyring",
    ],
    "sfn_callback_urls.testing": [
        "EXECUTE_STATE_MACHINES",
        "ApprovalMachine",
        "action_names",
        "actions",
        "claims",
        "configure_moto_server",
        "create_urls_requests",
        "failure_actions",
        "heartbeat_actions",
        "json_values",
        "moto_server",
        "post_actions",
        "response_specs",
        "success_actions",
        "task_tokens",
    ],
}
# Every exception class of the library, each in the one public tree.
ERRORS = sorted(
    name
    for name, value in vars(importlib.import_module("sfn_callback_urls.errors")).items()
    if isinstance(value, type) and issubclass(value, Exception)
)


def public_modules() -> list[str]:
    """Every module of the package whose dotted path has no part starting with ``_``."""
    names = ["sfn_callback_urls"]
    for info in pkgutil.walk_packages(sfn_callback_urls.__path__, "sfn_callback_urls."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def test_the_public_modules_are_the_documented_ones() -> None:
    """No module is public by accident: the private ones start with an underscore."""
    assert public_modules() == sorted([*PUBLIC_API, "sfn_callback_urls.errors"])


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_each_public_module_exports_exactly_its_api(module_name: str) -> None:
    """``__all__`` is the documented list, sorted, and every name in it resolves."""
    module = importlib.import_module(module_name)
    assert module.__all__ == PUBLIC_API[module_name]
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_errors_exports_every_exception_and_nothing_else() -> None:
    """``sfn_callback_urls.errors.__all__`` is the whole exception tree."""
    errors = importlib.import_module("sfn_callback_urls.errors")
    assert sorted(errors.__all__) == ERRORS
    for name in ERRORS:
        assert issubclass(getattr(errors, name), errors.SfnCallbackUrlsError)


@pytest.mark.parametrize("module_name", [*sorted(PUBLIC_API), "sfn_callback_urls.errors"])
def test_every_public_name_is_documented(module_name: str) -> None:
    """Each exported class and function has a docstring of its own."""
    module = importlib.import_module(module_name)
    assert module.__doc__
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, (type, types.FunctionType)):
            assert inspect.getdoc(value), f"{module_name}.{name} has no docstring"


def test_no_public_name_leaks_from_the_root() -> None:
    """The package root has no public attribute beyond ``__all__`` and the public modules."""
    root = {name for name in dir(sfn_callback_urls) if not name.startswith("_")}
    submodules = {name.rsplit(".", 1)[1] for name in public_modules() if "." in name}
    assert root - submodules - {"annotations"} == set(sfn_callback_urls.__all__)


def test_version_is_available() -> None:
    """``__version__`` is the installed distribution's version (never an exception)."""
    assert isinstance(sfn_callback_urls.__version__, str)
    assert sfn_callback_urls.__version__
