"""examples/frameworks/: each recipe, imported as it is, approves a real moto execution over HTTP.

FastAPI, Starlette and Litestar run under uvicorn, Flask and Django under wsgiref, each on
loopback; the client is urllib. Every recipe uses ``confirm_get=True``: a GET shows the
confirmation, the POST of its button completes the task; the page keeps the headers we send.
(``nox -s recipes``: the frameworks are the ``recipes`` extra.)
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import Answer, import_file, serve_wsgi  # tests/ is on sys.path
from sfn_callback_urls import Codec, LocalKey, Minter, SuccessAction
from sfn_callback_urls.testing import ApprovalMachine
from test_servers import _serve_asgi, fetch

RECIPES = Path(__file__).resolve().parents[1] / "examples" / "frameworks"


@pytest.fixture
def recipe_env(monkeypatch: pytest.MonkeyPatch, moto_sfn: Any, fresh_default_client: None) -> None:
    """The environment the recipes read (a local key), with moto's Step Functions."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", LocalKey.generate().to_string())
    monkeypatch.delenv("SFN_CALLBACK_URLS_PURPOSE", raising=False)


def load(name: str) -> ModuleType:
    """Import the recipe file as it is."""
    return import_file(RECIPES / name, f"recipe_{Path(name).stem}", keep=False)


def approve(machine: ApprovalMachine, base_url: str) -> None:
    """Mint for a real execution; GET asks, POST approves; the execution succeeds."""
    execution = machine.start("Ben")
    token, _ = machine.wait_for_token()
    minter = Minter(Codec.from_environment(), base_url=base_url)
    url = minter.mint(token, [SuccessAction(name="approve", output={"ok": True})]).urls["approve"]
    asked = fetch(url)
    assert asked.status == 200, asked.body
    assert asked.json()["confirm"] is True
    page = fetch(url, accept="text/html")  # the page, with our headers as they were sent
    assert page.status == 200, page.body
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert b"<form" in page.body
    done = fetch(url, method="POST", body=b"", content_type="application/x-www-form-urlencoded")
    assert done.status == 200, done.body
    assert done.json()["action"] == {"name": "approve", "type": "success"}
    described = machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"ok": True}


def test_fastapi_recipe(recipe_env: None, approval_machine: ApprovalMachine) -> None:
    """examples/frameworks/fastapi_app.py under uvicorn approves a real execution."""
    app = load("fastapi_app.py").app
    for root in _serve_asgi(app):
        approve(approval_machine, root)


def test_starlette_recipe(recipe_env: None, approval_machine: ApprovalMachine) -> None:
    """examples/frameworks/starlette_app.py under uvicorn approves under /callbacks."""
    app = load("starlette_app.py").app
    for root in _serve_asgi(app):
        approve(approval_machine, f"{root}/callbacks")


def test_litestar_recipe(recipe_env: None, approval_machine: ApprovalMachine) -> None:
    """examples/frameworks/litestar_app.py under uvicorn approves a real execution."""
    app = load("litestar_app.py").app
    for root in _serve_asgi(app):
        approve(approval_machine, root)


def test_flask_recipe(recipe_env: None, approval_machine: ApprovalMachine) -> None:
    """examples/frameworks/flask_app.py under a WSGI server approves a real execution."""
    app = load("flask_app.py").app
    with serve_wsgi(app) as (host, port):
        approve(approval_machine, f"http://{host}:{port}")


def test_any_framework_recipe_answers_flask_without_a_type_error(
    recipe_env: None, approval_machine: ApprovalMachine
) -> None:
    """The generic respond(), used in a Flask view as its docstring says, approves.

    Its answer's status, headers and body make a response (no tuple in the wrong order, no 500).
    """
    from flask import Flask, Response, request

    respond = load("any_framework.py").respond
    app = Flask("any_framework_in_flask")

    @app.route("/respond", methods=["GET", "POST"])
    def view() -> Response:
        answer = respond(
            request.method,
            request.query_string.decode("latin-1"),
            dict(request.headers),
            request.get_data(),
        )
        return Response(answer.body, answer.status, dict(answer.headers))

    with serve_wsgi(app) as (host, port):
        approve(approval_machine, f"http://{host}:{port}")


def _django_application() -> Any:
    """A Django project with CSRF protection on: the recipe under /callbacks/, and /other.

    /other is an ordinary POST view, which must keep its CSRF check.
    """
    import django
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpRequest, HttpResponse
    from django.urls import include, path

    recipe = load("django_views.py")

    def other(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"posted")

    urls = types.ModuleType("recipe_django_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("callbacks/", include(recipe)),
        path("other", other),
    ]
    sys.modules[urls.__name__] = urls
    if not settings.configured:
        settings.configure(
            SECRET_KEY="tests-only",  # a throwaway project
            ROOT_URLCONF=urls.__name__,
            ALLOWED_HOSTS=["127.0.0.1"],
            INSTALLED_APPS=[],
            MIDDLEWARE=[
                "django.middleware.security.SecurityMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
            ],
        )
        django.setup()
    else:
        from django.urls import clear_url_caches

        settings.ROOT_URLCONF = urls.__name__
        clear_url_caches()
    return get_wsgi_application()


def test_django_recipe_confirms_without_csrf_on_exactly_that_view(
    recipe_env: None, approval_machine: ApprovalMachine
) -> None:
    """examples/frameworks/django_views.py: the confirm POST passes Django's CSRF middleware.

    Another POST view of the same project is still refused (403).
    """
    application = _django_application()
    try:
        with serve_wsgi(application) as (host, port):
            root = f"http://{host}:{port}"
            approve(approval_machine, f"{root}/callbacks")
            refused: Answer = fetch(f"{root}/other", method="POST", body=b"x=1")
            assert refused.status == 403
    finally:
        sys.modules.pop("recipe_django_urls", None)


def test_every_recipe_is_tested_and_shown() -> None:
    """Each file under examples/frameworks/ has a test here and is included by the docs."""
    files = sorted(path.name for path in RECIPES.glob("*.py"))
    assert files == [
        "any_framework.py",
        "django_views.py",
        "fastapi_app.py",
        "flask_app.py",
        "litestar_app.py",
        "starlette_app.py",
    ]
    docs = (RECIPES.parents[1] / "docs" / "frameworks.md").read_text(encoding="utf-8")
    for name in files:
        assert f'--8<-- "examples/frameworks/{name}"' in docs
