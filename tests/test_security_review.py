"""Regressions of the outside security review (issue 9), one test group per finding.

Every test drives a public entry point the way an attacker holding a URL (or the open endpoint)
would: `CallbackHandler`, the WSGI app served by ``wsgiref`` on loopback or called with a real
environ, the ASGI app called with real ``receive``/``send``, and the ready Lambda app on moto
with real executions where a completion is involved. Only the public surface is imported.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import http.server
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import boto3
import pytest

from helpers import (  # tests/ is on sys.path
    Answer,
    FakeClock,
    FakeStepFunctions,
    KmsCalls,
    assert_security_headers,
    b64url,
    blob_of,
    key_header_span,
    query_of,
    serve_wsgi,
    synthetic_token,
    unb64url,
)
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    FailureAction,
    InvalidPayload,
    InvalidRequest,
    KmsDerivedKey,
    KmsEnvelopeKey,
    LocalKey,
    Minter,
    PostAction,
    ResponseSpec,
    SuccessAction,
    parse_action,
)
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app
from sfn_callback_urls.aws_lambda import (
    create_urls_handler,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.errors import InvalidJsonSchema
from sfn_callback_urls.testing import ApprovalMachine

BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
TOKEN = synthetic_token()


# --- helpers ---------------------------------------------------------------------------------


def new_codec() -> Codec:
    """A codec under a fresh local key."""
    return Codec(LocalKey.generate(), purpose="security-review")


def mint(codec: Codec, action: Any, *, params: bool = False, token: str = TOKEN) -> str:
    """One callback URL for ``action``."""
    urls = Minter(codec, base_url=BASE_URL).mint(token, [action], enable_output_parameters=params)
    return urls.urls[action.name]


def post(handler: CallbackHandler, url: str, body: bytes) -> Any:
    """POST a JSON body to ``url`` through ``handler``."""
    return handler.handle(
        CallbackRequest(
            method="POST",
            query=query_of(url),
            headers={"content-type": "application/json", "accept": "application/json"},
            body=body,
        )
    )


def raw_request(
    address: tuple[str, int],
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    """Send exactly this request line, headers and body (no client-side normalization)."""
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"{address[0]}:{address[1]}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def wsgi_call(
    app: Any,
    *,
    method: str = "GET",
    path: str = "/respond",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    """Call a WSGI app directly with a complete environ (as a PEP 3333 server builds it)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        for _name, value in response_headers:
            value.encode("latin-1")  # PEP 3333: header values must be latin-1
        started["status"] = int(status.split()[0])
        started["headers"] = {name.lower(): value for name, value in response_headers}

    body_out = b"".join(app(environ, start_response))
    return Answer(started["status"], started["headers"], body_out)


def asgi_call(
    app: Any,
    *,
    method: str = "GET",
    path: str = "/respond",
    query: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> Answer:
    """Call an ASGI app with real receive/send coroutines; headers are checked as servers do."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": query.encode("latin-1"),
        "headers": headers or [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # the client keeps the connection open
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            for name, value in message["headers"]:
                assert isinstance(name, bytes)
                assert isinstance(value, bytes)
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_out = {
        bytes(n).decode("latin-1"): bytes(v).decode("latin-1") for n, v in start["headers"]
    }
    return Answer(start["status"], headers_out, body_out)


# --- finding 1: JSON Schema $ref never resolved outside the schema ----------------------------


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - one list per server, set by the fixture

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = json.dumps({"const": "steer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/schema+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def schema_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server serving a schema; yields its URL and the paths it was asked for."""
    requests: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/schema.json", requests
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


_OPENED_FILES: list[str] = []
_WATCHED_FILES: set[str] = set()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and str(args[0]) in _WATCHED_FILES:
        _OPENED_FILES.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def schema_file(tmp_path: Path) -> Iterator[str]:
    """A schema file on disk whose every open is recorded (by an audit hook)."""
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"const": "steer"}))
    _WATCHED_FILES.add(str(path))
    _OPENED_FILES.clear()
    try:
        yield str(path)
    finally:
        _WATCHED_FILES.discard(str(path))


def _post_action(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "decide",
        "type": "post",
        "outcomes": [
            {"name": "steered", "type": "success", "schema": schema, "output": "steered"},
        ],
    }


def _foreign_ref_schemas(remote: str, local_file: str) -> list[dict[str, Any]]:
    file_url = Path(local_file).as_uri()
    return [
        {"$ref": remote},
        {"$ref": file_url},
        {"type": "object", "properties": {"a": {"$ref": remote}}},
        {"$defs": {"x": {"$ref": file_url}}, "$ref": "#/$defs/x"},
        {"$dynamicRef": remote},
        {"$id": remote, "type": "string"},
        {"$id": file_url, "$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"$schema": "http://json-schema.org/draft-04/schema#", "id": remote},
        {"items": [{"$ref": "other.json"}]},
        {"$ref": "#/$defs/missing"},
    ]


def test_finding_1_foreign_refs_are_refused_at_mint(
    schema_server: tuple[str, list[str]], schema_file: str
) -> None:
    """Finding 1: a non-local `$ref`, `$dynamicRef`, `$id` or `id` is refused at mint, unfetched."""
    remote, requests = schema_server
    codec = new_codec()
    for schema in _foreign_ref_schemas(remote, schema_file):
        with pytest.raises(InvalidJsonSchema):
            mint(codec, parse_action(_post_action(schema)))
    assert requests == []
    assert _OPENED_FILES == []


def _sealed_anyway(codec: Codec, schema: dict[str, Any]) -> str:
    """A URL carrying ``schema`` unchecked, as a version without the mint-time check made it."""
    action = parse_action(_post_action({"const": "placeholder"}))
    assert isinstance(action, PostAction)
    outcome = action.outcomes[0].model_copy(update={"schema_": schema})
    return mint(codec, action.model_copy(update={"outcomes": [outcome]}))


def test_finding_1_a_callback_never_fetches_a_ref(
    schema_server: tuple[str, list[str]], schema_file: str
) -> None:
    """Finding 1: a URL sealed with a remote or file `$ref` is refused; no socket or file opened."""
    remote, requests = schema_server
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=client)
    app = make_wsgi_app(handler)
    with serve_wsgi(app) as address:
        for ref in (remote, Path(schema_file).as_uri()):
            url = _sealed_anyway(codec, {"$ref": ref})
            answer = raw_request(
                address,
                "POST",
                f"/prod/respond?{query_of(url)}",
                headers={"Content-Type": "application/json", "Content-Length": "7"},
                body=b'"steer"',
            )
            assert 400 <= answer.status < 500, answer.body
    assert requests == []
    assert _OPENED_FILES == []
    assert client.calls == []


def test_finding_1_local_refs_keep_working() -> None:
    """Finding 1: local `#/$defs/...` and `#/definitions/...` refs still select outcomes."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=client)
    for schema in (
        {"$defs": {"d": {"const": "steer"}}, "$ref": "#/$defs/d"},
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"d": {"const": "steer"}},
            "allOf": [{"$ref": "#/definitions/d"}],
        },
        {"$defs": {"d": {"$ref": "#/$defs/e"}, "e": {"const": "steer"}}, "$ref": "#/$defs/d"},
    ):
        url = mint(codec, parse_action(_post_action(schema)))
        assert post(handler, url, b'"steer"').status == 200
    assert [kind for kind, _ in client.calls] == ["success"] * 3


# --- finding 2: lone surrogates in POST bodies ------------------------------------------------

_SURROGATE_OUTCOMES = {
    "output_body": {"output_body": True},
    "output_path": {"output_path": "$.v"},
    "error_path": {"type": "failure", "error_path": "$.v"},
    "cause_path": {"type": "failure", "cause_path": "$.v"},
}


@pytest.mark.parametrize("where", sorted(_SURROGATE_OUTCOMES))
@pytest.mark.parametrize(
    "body",
    [b'{"v": "\\ud800"}', b'{"v": ["ok", "\\udfff x"]}', b'{"\\ud83d": 1, "v": "a"}'],
    ids=["lone-high", "lone-low-in-list", "in-a-key"],
)
def test_finding_2_lone_surrogates_in_post_bodies_are_400(where: str, body: bytes) -> None:
    """Finding 2: a lone surrogate (JSON escape) in a POST body is a 400; nothing is sent."""
    outcome = {"name": "o", "type": "success", "schema": {"type": "object"}}
    outcome.update(_SURROGATE_OUTCOMES[where])
    action = parse_action({"name": "decide", "type": "post", "outcomes": [outcome]})
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=client)
    response = post(handler, mint(codec, action), body)
    assert response.status == 400, response.body
    assert json.loads(response.body)["error"] == "InvalidPostActionBody"
    assert client.calls == []
    # A surrogate *pair* is a valid character and works.
    response = post(handler, mint(codec, action), b'{"v": "\\ud83d\\ude00"}')
    assert response.status == 200, response.body


def test_finding_2_lone_surrogates_in_parsed_query_parameters_are_400() -> None:
    """Finding 2: a lone surrogate in an output parameter given as a mapping is a 400, unsent."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_output_parameters=True, stepfunctions_client=client)
    for action in (
        SuccessAction(name="ok", output={"by": "$user"}),
        FailureAction(name="no", error="$user", cause="by $user"),
    ):
        url = mint(codec, action, params=True)
        query = {"data": blob_of(url), "user": "\ud800"}
        response = handler.handle(CallbackRequest(method="GET", query=query))
        assert response.status == 400, response.body
    assert client.calls == []


def test_finding_2_a_lone_surrogate_never_reaches_a_redirect_template() -> None:
    """Finding 2 (found by the widened fuzz_handler): a surrogate for `$user` in a redirect: 400."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_output_parameters=True, stepfunctions_client=client)
    action = SuccessAction(
        name="ok", output=None, response=ResponseSpec(redirect="https://example.com/$user")
    )
    url = mint(codec, action, params=True)
    for method in ("HEAD", "GET"):
        query = {"data": blob_of(url), "user": "x\udfff"}
        response = handler.handle(CallbackRequest(method=method, query=query))
        assert response.status == 400, response.body
    assert client.calls == []


# --- finding 3: redirects are ASCII on the wire -----------------------------------------------

UNICODE_REDIRECT = "https://exämple.com/ü?q=€"
ASCII_REDIRECT = "https://xn--exmple-cua.com/%C3%BC?q=%E2%82%AC"


def test_finding_3_redirects_are_normalized_to_ascii_at_mint() -> None:
    """Finding 3: a redirect is IDNA/percent-encoded at mint, or refused when it cannot be."""
    assert ResponseSpec(redirect=UNICODE_REDIRECT).redirect == ASCII_REDIRECT
    assert ResponseSpec(redirect=ASCII_REDIRECT).redirect == ASCII_REDIRECT  # idempotent
    kept = "https://example.com/a%20b/$user?x=1#frag"
    assert ResponseSpec(redirect=kept).redirect == kept
    with pytest.raises(ValueError, match="redirect"):
        ResponseSpec(redirect="https://" + "ä" * 64 + ".com/")
    with pytest.raises(InvalidRequest):
        parse_action(
            {
                "name": "a",
                "type": "success",
                "output": None,
                "response": {"redirect": "https://" + "ü" * 70 + ".example/"},
            }
        )


def _redirect_handler(machine: ApprovalMachine, stepfunctions: Any) -> tuple[CallbackHandler, str]:
    execution = machine.start()
    token, _ = machine.wait_for_token()
    codec = new_codec()
    handler = CallbackHandler(codec, stepfunctions_client=stepfunctions)
    action = SuccessAction(
        name="approve",
        output={"name_in_output": "Ben"},
        response=ResponseSpec(redirect=UNICODE_REDIRECT),
    )
    return handler, mint(codec, action, token=token) + f"#{execution}"


def test_finding_3_unicode_redirect_through_wsgiref_completes_and_answers(
    approval_machine: ApprovalMachine, moto_sfn: Any
) -> None:
    """Finding 3: a non-Latin-1 redirect answers 303 with an ASCII Location over wsgiref."""
    handler, url = _redirect_handler(approval_machine, moto_sfn.stepfunctions)
    url, execution = url.split("#", 1)
    with serve_wsgi(make_wsgi_app(handler)) as address:
        answer = raw_request(address, "GET", f"/prod/respond?{query_of(url)}")
    assert answer.status == 303, answer.body
    assert answer.headers["location"] == ASCII_REDIRECT
    assert_security_headers(answer.headers)
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"


def test_finding_3_unicode_redirect_through_asgi_completes_and_answers(
    approval_machine: ApprovalMachine, moto_sfn: Any
) -> None:
    """Finding 3: the ASGI app sends the same 303 with an ASCII Location, after completing."""
    handler, url = _redirect_handler(approval_machine, moto_sfn.stepfunctions)
    url, execution = url.split("#", 1)
    answer = asgi_call(make_asgi_app(handler), path="/prod/respond", query=query_of(url))
    assert answer.status == 303, answer.body
    assert answer.headers["location"] == ASCII_REDIRECT
    assert approval_machine.wait_for_status(execution)["status"] == "SUCCEEDED"


def test_finding_3_a_unicode_redirect_sealed_unnormalized_still_answers() -> None:
    """Finding 3: a URL sealed with a raw Unicode redirect (older minter) answers ASCII too."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, stepfunctions_client=client)
    spec = ResponseSpec().model_copy(update={"redirect": UNICODE_REDIRECT})
    action = SuccessAction(name="approve", output=None).model_copy(update={"response": spec})
    url = mint(codec, action)
    answer = wsgi_call(make_wsgi_app(handler), query=query_of(url))
    assert answer.status == 303
    assert answer.headers["location"] == ASCII_REDIRECT
    assert len(client.calls) == 1


# --- finding 4: a '?' inside a query value ----------------------------------------------------


def test_finding_4_question_marks_in_query_values(moto_sfn: Any) -> None:
    """Finding 4: `note=why?` is a value; `data=JUNK?&<real query>` is refused, not re-read."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_output_parameters=True, stepfunctions_client=client)
    url = mint(codec, SuccessAction(name="approve", output={"note": "$note"}), params=True)
    with serve_wsgi(make_wsgi_app(handler)) as address:
        fine = raw_request(address, "GET", f"/prod/respond?{query_of(url)}&note=why?")
        smuggled = raw_request(address, "GET", f"/prod/respond?data=NOT-THE-BLOB?&{query_of(url)}")
        tail = raw_request(address, "GET", f"/prod/respond?note=a?b&{query_of(url)}")
    assert fine.status == 200, fine.body
    assert smuggled.status == 400, smuggled.body
    assert smuggled.json()["error"] == "InvalidPayload"
    assert tail.status == 200, tail.body
    outputs = [json.loads(kwargs["output"]) for _, kwargs in client.calls]
    assert outputs == [{"note": "why?"}, {"note": "a?b"}]


def test_finding_4_whole_urls_and_bare_queries_are_read_like_a_front_end() -> None:
    """Finding 4: only a whole URL is cut at its first '?'; a query string is read as one."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_output_parameters=True, stepfunctions_client=client)
    url = mint(codec, SuccessAction(name="approve", output="$note"), params=True)
    for query in (f"{url}&note=why?", f"{query_of(url)}&note=why?"):
        response = handler.handle(CallbackRequest(method="GET", query=query))
        assert response.status == 200, response.body
    assert [json.loads(kwargs["output"]) for _, kwargs in client.calls] == ["why?", "why?"]


def test_finding_4_whole_urls_are_split_as_urllib_splits_them() -> None:
    """Finding 4 (found by the widened fuzz_callback_url): a URL is read as urllib reads it."""
    from sfn_callback_urls._urls import CallbackQuery

    # urllib (like browsers) drops tabs and line breaks from a URL; so does the parse.
    query = CallbackQuery.parse("https://h.example/respond?action=appr\r\nove&data=B\tLOB")
    assert (query.action, query.data) == ("approve", "BLOB")
    # In a query string they are data, as a front end reads them.
    query = CallbackQuery.parse("action=appr\r\nove&data=BLOB")
    assert query.action == "appr\r\nove"
    with pytest.raises(InvalidPayload):
        CallbackQuery.parse("https://[::1/respond?data=BLOB")


# --- finding 5: odd Content-Length values -----------------------------------------------------

ODD_LENGTHS = {
    "²": 400,
    "\u0665": 400,  # ARABIC-INDIC DIGIT FIVE
    "+5": 400,
    "-1": 400,
    "5, 5": 400,
    "0x10": 400,
    "1_0": 400,
    "5 5": 400,
    "": None,
    " 7 ": None,
    "9" * 30: 413,
    "5" * 5000: 413,
}


def post_with_content_length(
    transport: str, handler: CallbackHandler, url: str, length: str
) -> Answer:
    """POST ``"steer"`` to ``url`` with the Content-Length ``length`` (none if empty), as sent.

    Over ``wsgiref`` on loopback, or to the ASGI app with real ``receive``/``send``.
    """
    if transport == "wsgiref":
        headers = {"Content-Type": "application/json"}
        if length:
            # The raw UTF-8 bytes on the wire (http.client sends header values as latin-1).
            headers["Content-Length"] = length.encode("utf-8").decode("latin-1")
        with serve_wsgi(make_wsgi_app(handler)) as address:
            target = f"/prod/respond?{query_of(url)}"
            return raw_request(address, "POST", target, headers=headers, body=b'"steer"')
    raw_headers = [(b"content-type", b"application/json")]
    if length:
        raw_headers.append((b"content-length", length.encode("utf-8")))
    return asgi_call(
        make_asgi_app(handler),
        method="POST",
        query=query_of(url),
        headers=raw_headers,
        body=b'"steer"',
    )


@pytest.mark.parametrize("transport", ["wsgiref", "asgi"])
@pytest.mark.parametrize("length", list(ODD_LENGTHS), ids=lambda value: repr(value[:12]))
def test_finding_5_odd_content_lengths(transport: str, length: str) -> None:
    """Finding 5: odd Content-Lengths get 400 (413 when too large) over wsgiref and ASGI, no 5xx."""
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=client)
    url = mint(codec, parse_action(_post_action({"const": "steer"})))
    answer = post_with_content_length(transport, handler, url, length)
    expected = ODD_LENGTHS[length]
    assert answer.status < 500, answer.body
    if expected is not None:
        assert answer.status == expected, answer.body
        assert client.calls == []
    assert_security_headers(answer.headers)


# --- finding 6: custom HTML cannot run script unless the minter opts in ----------------------


def _csp(headers: Any) -> dict[str, str]:
    policy = {name.lower(): value for name, value in headers.items()}["content-security-policy"]
    directives = {}
    for item in policy.split(";"):
        name, _, value = item.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives


def _scripts_forbidden(directives: dict[str, str]) -> bool:
    source = directives.get("script-src", directives.get("default-src"))
    return source == "'none'"


def test_finding_6_custom_html_forbids_script_by_default() -> None:
    """Finding 6: a custom HTML answer's CSP forbids script; output parameters stay escaped."""
    codec = new_codec()
    handler = CallbackHandler(
        codec, enable_output_parameters=True, stepfunctions_client=FakeStepFunctions()
    )
    action = SuccessAction(
        name="approve",
        output=None,
        response=ResponseSpec(html='<a href="$link">go</a><script>var x = "$user";</script>'),
    )
    url = mint(codec, action, params=True)
    query = f"{query_of(url)}&link=javascript:alert(1)&user=%22%3B%20alert(2)%2F%2F"
    response = handler.handle(
        CallbackRequest(method="GET", query=query, headers={"accept": "text/html"})
    )
    assert response.status == 200
    assert _scripts_forbidden(_csp(response.headers))
    assert _csp(response.headers)["frame-ancestors"] == "'none'"


def test_finding_6_minters_can_opt_in_to_scripts() -> None:
    """Finding 6: `ResponseSpec(allow_scripts=True)` serves the minter's HTML without that ban."""
    codec = new_codec()
    handler = CallbackHandler(codec, stepfunctions_client=FakeStepFunctions())
    spec = ResponseSpec(html="<script>window.close()</script>", allow_scripts=True)
    url = mint(codec, SuccessAction(name="approve", output=None, response=spec))
    response = handler.handle(
        CallbackRequest(method="GET", query=query_of(url), headers={"accept": "text/html"})
    )
    directives = _csp(response.headers)
    assert not _scripts_forbidden(directives)
    assert directives["frame-ancestors"] == "'none'"
    # The flag is refused where it means nothing, and never written into blobs when false.
    with pytest.raises(ValueError, match="allow_scripts"):
        ResponseSpec(redirect="https://example.com/", allow_scripts=True)
    assert "allow_scripts" not in ResponseSpec(html="<p>x</p>").model_dump(exclude_defaults=True)


# --- finding 7: botocore's DEBUG logs never see tokens or key material -----------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken record still counts: keep its raw parts
            text = f"{record.msg!r} {record.args!r}"
        self.records.append(f"{record.name}: {text}")


@pytest.fixture
def root_at_debug() -> Iterator[_Capture]:
    """The root logger at DEBUG with a capturing handler; every logger's level restored after."""
    root = logging.getLogger()
    capture = _Capture()
    saved_level = root.level
    names = ["botocore", "boto3", "urllib3", "s3transfer"]
    saved = {name: logging.getLogger(name).level for name in names}
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved_level)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _api_gateway_event(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {"accept": "application/json", "host": parts.hostname},
        "requestContext": {
            "domainName": parts.hostname,
            "stage": "$default",
            "http": {"method": "GET", "path": parts.path, "sourceIp": "192.0.2.1"},
        },
        "isBase64Encoded": False,
    }


def _run_completion(machine: ApprovalMachine, capture: _Capture) -> tuple[str, str]:
    """Mint with the ready app and click through it; returns (token, execution ARN).

    The capture starts once the token is read: the test's own SQS receive (and moto's SQS
    send inside the execution) log it through botocore before the app runs at all.
    """
    reset_app()
    execution = machine.start()
    token, _ = machine.wait_for_token()
    capture.records.clear()
    minted = create_urls_handler(
        {
            "token": token,
            "actions": [{"name": "approve", "type": "success", "output": {"ok": True}}],
        },
        None,
    )
    answer = process_callback_handler(_api_gateway_event(minted["urls"]["approve"]), None)
    assert answer["statusCode"] == 200, answer
    assert machine.wait_for_status(execution)["status"] == "SUCCEEDED"
    return token, execution


def test_finding_7_aws_debug_logs_never_carry_tokens_or_keys(
    approval_machine: ApprovalMachine,
    moto_sfn: Any,
    monkeypatch: pytest.MonkeyPatch,
    root_at_debug: _Capture,
) -> None:
    """Finding 7: with the root logger at DEBUG, no record holds the token or a KMS plaintext."""
    from moto.kms import models as kms_models

    plaintexts: list[bytes] = []
    original = kms_models.KmsBackend.generate_data_key

    def recording(self: Any, *args: Any, **kwargs: Any) -> tuple[bytes, bytes, str]:
        plaintext, blob, arn = original(self, *args, **kwargs)
        plaintexts.append(plaintext)
        return plaintext, blob, arn

    monkeypatch.setattr(kms_models.KmsBackend, "generate_data_key", recording)
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("KEY_ID", key_arn)
    monkeypatch.setenv("CALLBACK_BASE_URL", BASE_URL)
    for name in ("SFN_CALLBACK_URLS_KEY", "SFN_CALLBACK_URLS_DEBUG_AWS"):
        monkeypatch.delenv(name, raising=False)
    try:
        token, _ = _run_completion(approval_machine, root_at_debug)
    finally:
        reset_app()
    assert plaintexts, "the app did not use KMS envelope keys"
    secrets = [token, json.dumps(token)[1:-1]]
    for plaintext in plaintexts:
        secrets += [base64.b64encode(plaintext).decode(), plaintext.hex(), repr(plaintext)[2:-1]]
    assert root_at_debug.records, "nothing was logged at all: the capture is broken"
    # moto runs the state machine in this process and logs the token on its own loggers (and,
    # for its SQS integration, through botocore): not ours, and not there on AWS.
    for record in root_at_debug.records:
        if record.startswith("moto."):
            continue
        for secret in secrets:
            assert secret not in record, f"a secret reached the logs: {record[:200]}"


def test_finding_7_the_aws_debug_logs_can_be_asked_for(
    approval_machine: ApprovalMachine,
    moto_sfn: Any,
    monkeypatch: pytest.MonkeyPatch,
    root_at_debug: _Capture,
) -> None:
    """Finding 7: `SFN_CALLBACK_URLS_DEBUG_AWS=true` is the explicit opt-out (botocore at DEBUG)."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", LocalKey.generate().to_string())
    monkeypatch.setenv("CALLBACK_BASE_URL", BASE_URL)
    monkeypatch.delenv("KEY_ID", raising=False)
    monkeypatch.setenv("SFN_CALLBACK_URLS_DEBUG_AWS", "true")
    try:
        token, _ = _run_completion(approval_machine, root_at_debug)
    finally:
        reset_app()
    assert any(token in record for record in root_at_debug.records if "botocore" in record)


# --- finding 9: the adapters' own answers carry the security headers --------------------------


def test_finding_9_adapter_answers_carry_the_security_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 9: the WSGI, ASGI and Lambda adapters' own error answers carry security headers."""
    handler = CallbackHandler(new_codec(), stepfunctions_client=FakeStepFunctions())
    wsgi, asgi = make_wsgi_app(handler, max_body_size=10), make_asgi_app(handler, max_body_size=10)
    answers = [
        wsgi_call(wsgi, path="/elsewhere"),
        wsgi_call(wsgi, method="POST", headers={"Content-Length": "11"}, body=b"x" * 11),
        wsgi_call(wsgi, method="POST", headers={"Content-Length": "x"}),
        asgi_call(asgi, path="/elsewhere"),
        asgi_call(asgi, method="POST", headers=[(b"content-length", b"11")], body=b"x" * 11),
        asgi_call(asgi, method="POST", headers=[(b"content-length", b"x")]),
        asgi_call(asgi, method="POST", body=b"x" * 11),
    ]
    assert [answer.status for answer in answers] == [404, 413, 400, 404, 413, 400, 413]
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", LocalKey.generate().to_string())
    monkeypatch.setenv("CALLBACK_BASE_URL", BASE_URL)
    reset_app()
    try:
        lambda_answers = [
            process_callback_handler(_api_gateway_event(f"{BASE_URL}/elsewhere"), None),
            process_callback_handler(_api_gateway_event(f"{BASE_URL}/respond"), None),
        ]
        urls_event = _api_gateway_event(f"{BASE_URL}/urls")
        lambda_answers.append(create_urls_handler(urls_event, None))  # GET: 405
        urls_event["requestContext"]["http"]["method"] = "POST"
        urls_event["headers"]["content-type"] = "text/plain"
        lambda_answers.append(create_urls_handler(urls_event, None))  # 415
        urls_event["headers"]["content-type"] = "application/json"
        urls_event["body"] = "{"
        lambda_answers.append(create_urls_handler(urls_event, None))  # 400
        urls_event["body"] = json.dumps(
            {"token": TOKEN, "actions": [{"name": "a", "type": "success", "output": 1}]}
        )
        lambda_answers.append(create_urls_handler(urls_event, None))  # 200
    finally:
        reset_app()
    assert [answer["statusCode"] for answer in lambda_answers] == [404, 400, 405, 415, 400, 200]
    for answer in answers:
        assert_security_headers(answer.headers)
    for lambda_answer in lambda_answers:
        assert_security_headers(lambda_answer["headers"])


# --- finding 10: a replayed forged KMS envelope costs one Decrypt -------------------------------


def _forge_key_header(blob: str, flip_at: int) -> str:
    """The blob with one byte of its KMS key header (the `kh` field) changed."""
    raw = bytearray(unb64url(blob))
    start, end = key_header_span(blob)
    raw[start + flip_at % (end - start)] ^= 0x01
    return b64url(bytes(raw))


def test_finding_10_a_replayed_forged_envelope_costs_one_decrypt(
    kms: Any, symmetric_key: str
) -> None:
    """Finding 10: N replays of one forged data key cost 1 Decrypt, until the 60 s TTL ends."""
    calls = KmsCalls(kms)
    clock = FakeClock()
    minting = Codec(KmsEnvelopeKey(symmetric_key, client=kms), purpose="p")
    handling = Codec(KmsEnvelopeKey(symmetric_key, client=kms, clock=clock), purpose="p")
    handler = CallbackHandler(handling, stepfunctions_client=FakeStepFunctions())
    url = mint(minting, SuccessAction(name="approve", output=None))
    forged = [_forge_key_header(blob_of(url), -1), _forge_key_header(blob_of(url), -2)]
    for blob in forged[:1] * 5:
        assert handler.handle(CallbackRequest("GET", {"data": blob})).status == 400
    assert calls.counts()["Decrypt"] == 1
    for blob in forged * 3:
        assert handler.handle(CallbackRequest("GET", {"data": blob})).status == 400
    assert calls.counts()["Decrypt"] == 2  # one per distinct forgery
    clock.advance(61)
    assert handler.handle(CallbackRequest("GET", {"data": forged[0]})).status == 400
    assert calls.counts()["Decrypt"] == 3  # the refusal is forgotten after its TTL
    # The genuine URL still opens (one Decrypt), and then from the cache.
    for _ in range(3):
        assert handler.handle(CallbackRequest("GET", query_of(url))).status == 200
    assert calls.counts()["Decrypt"] == 4


def test_finding_10_a_replayed_forged_salt_costs_one_generate_mac(kms: Any, hmac_key: str) -> None:
    """Finding 10: derived keys: a replayed forged salt already cost one GenerateMac (pinned)."""
    calls = KmsCalls(kms)
    codec = Codec(KmsDerivedKey(hmac_key, client=kms), purpose="p")
    handler = CallbackHandler(codec, stepfunctions_client=FakeStepFunctions())
    url = mint(codec, SuccessAction(name="approve", output=None))
    assert calls.counts()["GenerateMac"] == 1
    forged = _forge_key_header(blob_of(url), 3)
    for _ in range(5):
        assert handler.handle(CallbackRequest("GET", {"data": forged})).status == 400
    assert calls.counts()["GenerateMac"] == 2


# --- finding 11: reprs and the command line keep keys and blobs out of sight -------------------


def test_finding_11_callback_request_repr_hides_query_body_and_headers() -> None:
    """Finding 11: `repr(CallbackRequest)` shows neither the blob, the body nor header values."""
    request = CallbackRequest(
        method="POST",
        query="action=a&data=SECRET-BLOB",
        headers={"cookie": "session=SECRET-COOKIE", "accept": "text/html"},
        body=b'{"secret": "SECRET-BODY"}',
    )
    for text in (repr(request), str(request)):
        assert "SECRET" not in text
        assert "POST" in text
    mapping = CallbackRequest(method="GET", query={"data": "SECRET-BLOB"})
    assert "SECRET" not in repr(mapping)


def test_finding_11_cli_reads_keys_from_a_file(tmp_path: Path) -> None:
    """Finding 11: `--key-file` works, and `--help` steers away from `--key` on the command line."""
    command = shutil.which("sfn-callback-urls", path=str(Path(sys.executable).parent))
    assert command is not None, "the sfn-callback-urls command is not installed"
    environ = {key: value for key, value in os.environ.items() if key != "SFN_CALLBACK_URLS_KEY"}
    key = LocalKey.generate()
    key_file = tmp_path / "key"
    key_file.write_text(key.to_string() + "\n")
    url = mint(Codec(key), SuccessAction(name="approve", output=None))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the package's own command
            [command, *args], capture_output=True, text=True, env=environ, timeout=60, check=False
        )

    inspected = run("inspect", url, "--key-file", str(key_file))
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["valid"] is True
    missing = run("inspect", url, "--key-file", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert key.to_string() not in missing.stderr + missing.stdout
    help_text = " ".join(run("inspect", "--help").stdout.split())
    assert "--key-file" in help_text
    assert "process list" in help_text


# --- regex and JSONPath bounds ---------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^(a+)+$"},
        {"type": "object", "patternProperties": {"^(a|aa)+$": {}}, "additionalProperties": False},
        {"type": "object", "propertyNames": {"pattern": "^(a*)*$"}},
    ],
    ids=["pattern", "patternProperties", "propertyNames"],
)
def test_regex_patterns_run_in_linear_time(schema: dict[str, Any]) -> None:
    """Review (regex): catastrophic `pattern`s on attacker bodies answer in milliseconds."""
    codec = new_codec()
    handler = CallbackHandler(
        codec, enable_post_actions=True, stepfunctions_client=FakeStepFunctions()
    )
    url = mint(codec, parse_action(_post_action(schema)))
    # A legitimate match selects the outcome (and loads jsonschema and RE2, not timed below).
    good = json.dumps("aaaa" if schema["type"] == "string" else {"aaaa": 1}).encode()
    assert post(handler, url, good).status == 200
    # 41 characters: a backtracking engine takes about 2**40 steps (hours); RE2 microseconds.
    evil = "a" * 40 + "!"
    body = json.dumps(evil if schema["type"] == "string" else {evil: 1}).encode()
    started = time.perf_counter()
    response = post(handler, url, body)
    elapsed = time.perf_counter() - started
    assert response.status == 400
    assert elapsed < 1.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)a", "(?<!b)a"])
def test_regex_patterns_needing_backtracking_are_refused_at_mint(pattern: str) -> None:
    """Review (regex): a pattern the linear-time engine cannot run is refused at mint."""
    with pytest.raises(InvalidJsonSchema, match="pattern"):
        mint(new_codec(), parse_action(_post_action({"type": "string", "pattern": pattern})))


def test_recursive_jsonpaths_are_bounded_on_large_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review (JSONPath): `$..*` over a body of too many values is a 400; no path runs on it."""
    from sfn_callback_urls import _outcome

    paths_run: list[int] = []
    find = _outcome._find

    def counting_find(*args: Any) -> list[Any]:
        paths_run.append(1)
        return find(*args)

    monkeypatch.setattr(_outcome, "_find", counting_find)
    codec = new_codec()
    client = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=client)
    action = parse_action(
        {
            "name": "decide",
            "type": "post",
            "outcomes": [
                {"name": "o", "type": "success", "schema": {}, "output_path": "$..*"},
            ],
        }
    )
    url = mint(codec, action)
    big = json.dumps([[i, i] for i in range(12_000)]).encode()  # 36,001 values, < 256 KiB
    response = post(handler, url, big)
    assert response.status == 400, response.body[:200]
    assert json.loads(response.body)["error"] == "InvalidPostActionBody"
    assert paths_run == []  # refused by the value cap before any JSONPath ran
    small = json.dumps({"a": [1, {"b": 2}]}).encode()
    assert post(handler, url, small).status == 200
    assert paths_run == [1]
    # jsonpath-ng 1.11+ (Python 3.11+, pyproject.toml) also descends into arrays; older
    # releases, the newest on 3.10, do not (docs/migrating.md).
    expected = (
        [[1, {"b": 2}], 1, {"b": 2}, 2] if sys.version_info >= (3, 11) else [[1, {"b": 2}], 2]
    )
    assert json.loads(client.calls[0][1]["output"]) == expected


def test_finding_2_a_query_string_with_a_lone_surrogate_is_refused() -> None:
    """Finding 2: a hand-built query string with a lone surrogate is a 400, never a 500.

    Found by the widened fuzz_handler after the security fixes met the fast query parser.
    """
    codec = Codec(LocalKey.generate())
    action = SuccessAction(
        name="approve",
        output={"by": "$user"},
        response=ResponseSpec(redirect="https://example.com/done/$user"),
    )
    url = (
        Minter(codec, base_url=BASE_URL)
        .mint("T" * 40, [action], enable_output_parameters=True)
        .urls["approve"]
    )
    handler = CallbackHandler(codec, enable_output_parameters=True, complete=lambda c: None)
    query = url.split("?", 1)[1] + "&user=\ud800"
    response = handler.handle(CallbackRequest(method="GET", query=query))
    assert response.status == 400
    assert json.loads(response.body)["error"] == "InvalidPayload"


@pytest.mark.parametrize("base_url", ["https://例え.テスト/パス", "https://exämple.com/ü"])
def test_finding_3_minted_urls_are_ascii_whatever_the_base_url(base_url: str) -> None:
    """Finding 3: a non-ASCII base URL is minted in its ASCII form, by mint and create_urls.

    Found by the widened fuzz_create_urls: the redirect was normalized, the base URL was not.
    """
    codec = Codec(LocalKey.generate())
    action = SuccessAction(name="approve", output={})
    by_minter = Minter(codec, base_url=base_url).mint("T" * 40, [action]).urls["approve"]
    by_mint = Minter(codec).mint("T" * 40, [action], base_url=base_url).urls["approve"]
    by_request = (
        Minter(codec)
        .create_urls({"token": "T" * 40, "actions": [action], "base_url": base_url})
        .urls["approve"]
    )
    for url in (by_minter, by_mint, by_request):
        assert url.isascii()
        assert url.startswith("https://xn--")
