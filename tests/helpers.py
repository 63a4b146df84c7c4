"""Helpers shared by the tests; fixtures live in conftest.py.

Test data (tokens, the test key), the wire format written out by hand, fakes (clock, Step
Functions client, call counters), KMS keys in moto, Lambda events, a server on loopback, log
records, Markdown snippets and scripts.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import logging
import os
import random
import re
import struct
import sys
import textwrap
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sfn_callback_urls import KmsDerivedKey, KmsEnvelopeKey, LocalKey, Mode
from sfn_callback_urls._handler import LOG_FIELDS

# --- test data ---------------------------------------------------------------------------------

#: The region of moto's account (the ``aws_env`` fixture sets it).
REGION = "us-east-1"
#: How real task tokens start (the rest is opaque).
_TOKEN_START = bytes.fromhex("0000002a00000002") + bytes(8)


def synthetic_token(seed: int = 512) -> str:
    """A task token shaped like AWS's (moto's are 36-character uuids), the same for one ``seed``.

    Standard base64 of 512 bytes: 684 characters with ``+``, ``/`` and one ``=``, starting as real
    tokens do (``AAAAKgAAAAIAAAAAAAAAA``), the rest incompressible.
    """
    rest = random.Random(seed).randbytes(512 - len(_TOKEN_START))  # noqa: S311 - test data
    return base64.b64encode(_TOKEN_START + rest).decode("ascii")


#: The benchmark's token (``tests/vectors/v1.json`` seals it too).
BENCH_TOKEN = synthetic_token()

#: The secret of the test key.
KEY_SECRET = bytes(range(32))
#: The test key, fixed so that blobs are reproducible (``tests/vectors/v1.json`` uses it).
KEY = LocalKey(KEY_SECRET, key_id=bytes.fromhex("0badc0de"))


# --- the wire format, written out again from _codec.py's docstring (not imported) --------------

#: The plaintext's fixed fields: flags, type, transaction id, iat, exp, len(token).
FIXED = struct.Struct(">BB16sIIH")


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as blobs are written."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of unpadded base64url text (the inverse of `b64url`)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def blob_of(url: str) -> str:
    """The ``data`` parameter (the blob) of a callback URL, as urllib reads it."""
    return dict(parse_qsl(urlsplit(url).query))["data"]


def wire_header(mode: Mode, key_id: bytes = KEY.key_id, key_header: bytes = b"") -> bytes:
    """A version 1 header: ``format || len(kid) || kid || len(kh) || kh``."""
    return bytes((0x10 | mode, len(key_id))) + key_id + bytes((len(key_header),)) + key_header


def associated_data(purpose: str, head: bytes) -> bytes:
    """``len(purpose) (2 bytes) || purpose || header``: the seal's associated data."""
    raw = purpose.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw + head


def key_id_of(blob: str) -> bytes:
    """The key id a blob's header names (not authenticated here)."""
    raw = unb64url(blob)
    return raw[2 : 2 + raw[1]]


def key_header_span(blob: str) -> tuple[int, int]:
    """Where the key backend's header (``kh``) sits in the blob's raw bytes."""
    raw = unb64url(blob)
    kid_end = 2 + raw[1]
    return kid_end + 1, kid_end + 1 + raw[kid_end]


def key_header_of(blob: str) -> bytes:
    """The key backend's header of a blob (KMS: the encrypted data key or the salt)."""
    start, end = key_header_span(blob)
    return unb64url(blob)[start:end]


def bomb_blob(mode: Mode, inflated_size: int, *, name: str = "bomb", key: LocalKey = KEY) -> str:
    """A genuine success blob under ``key`` whose deflated action inflates to ``inflated_size``.

    Built by hand from the wire format, since the codec refuses to mint one: header, then the fixed
    fields, the token ``bomb-token`` and the action ``{"name":NAME,"output":"aaa..."}``.
    """
    prefix, suffix = b'{"name":"' + name.encode() + b'","output":"', b'"}'
    action = prefix + b"a" * (inflated_size - len(prefix) - len(suffix)) + suffix
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(action) + packer.flush()
    token = b"bomb-token"
    plaintext = FIXED.pack(0x02, 1, bytes(16), 1_700_000_000, 0, len(token)) + token + deflated
    head = wire_header(mode, key.key_id)
    context = associated_data("sfn-callback-urls", head)
    _, data_key = key.mint_key("sfn-callback-urls")
    if mode is Mode.ENCRYPTED:
        nonce = bytes(12)
        sealed = nonce + data_key.aead.encrypt(nonce, plaintext, context)
    else:
        sealed = plaintext + data_key.mac(context + plaintext)[:16]
    return b64url(head + sealed)


# --- fakes -------------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock (the KMS caches' ``clock=``) that the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class FakeStepFunctions:
    """A Step Functions client that sends nothing: it records each call, or raises ``error``.

    ``calls`` holds ``(kind, parameters)``, kind ``"success"``, ``"failure"`` or ``"heartbeat"``.
    """

    def __init__(self, error: BaseException | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error = error

    def _call(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.calls.append((kind, params))
        return {}

    def send_task_success(self, **params: Any) -> dict[str, Any]:
        """SendTaskSuccess."""
        return self._call("success", params)

    def send_task_failure(self, **params: Any) -> dict[str, Any]:
        """SendTaskFailure."""
        return self._call("failure", params)

    def send_task_heartbeat(self, **params: Any) -> dict[str, Any]:
        """SendTaskHeartbeat."""
        return self._call("heartbeat", params)


def record_sfn_calls(client: Any, *operations: str) -> list[tuple[str, dict[str, Any]]]:
    """Spy on a boto3 Step Functions client: (operation, parameters) of each call it makes.

    Only ``operations`` (such as ``"SendTaskSuccess"``) when given, else every call.
    """
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    for event in [f"provide-client-params.sfn.{name}" for name in operations] or [
        "provide-client-params.sfn"
    ]:
        client.meta.events.register(event, record)
    return calls


class KmsCalls:
    """Counts the KMS API calls a client makes, by operation (once per call whatever the retries).

    Thread-safe, so that races show up as extra calls.
    """

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        self._lock = threading.Lock()
        client.meta.events.register("before-call.kms", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.names.append(model.name)

    def counts(self) -> Counter[str]:
        """Calls so far, by operation."""
        with self._lock:
            return Counter(self.names)

    def total(self) -> int:
        """All calls so far."""
        with self._lock:
            return len(self.names)

    def reset(self) -> None:
        """Forget the calls so far."""
        with self._lock:
            self.names.clear()


# --- KMS keys in moto --------------------------------------------------------------------------

#: The KMS key backends: envelope encryption under a symmetric key, keys derived by an HMAC key.
KMS_KINDS = ("envelope", "derived")
KmsKey = KmsEnvelopeKey | KmsDerivedKey


def new_kms_key(kms: Any, kind: str) -> str:
    """A new KMS key for a backend kind: symmetric ("envelope") or HMAC_256 ("derived"); its ARN."""
    if kind == "envelope":
        metadata = kms.create_key()["KeyMetadata"]
    else:
        metadata = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    return str(metadata["Arn"])


def kms_backend(kind: str, key_id: str, **options: Any) -> KmsKey:
    """A fresh (cold) KMS backend of ``kind`` for ``key_id``; ``options`` go to its constructor."""
    if kind == "envelope":
        return KmsEnvelopeKey(key_id, **options)
    return KmsDerivedKey(key_id, **options)


# --- Lambda events and the ready app -----------------------------------------------------------

#: Sample events of each Lambda event source (API Gateway v1/v2, function URL, ALB).
EVENTS = Path(__file__).resolve().parent / "events"
#: The base URL the ready app is configured with (the ``app_env`` fixture).
APP_BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of the sample event ``tests/events/NAME.json``."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def event_for(
    url: str,
    source: str = "apigw_v1",
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Lambda event ``source`` would deliver for a request to ``url``.

    Built from the sample event of that source, with the URL's path and query in the source's
    own shape: decoded (multi-)values for REST, ``rawQueryString`` for 2.0, still URL-encoded
    values for ALB.
    """
    parts = urlsplit(url)
    decoded: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        decoded.setdefault(name, []).append(value)
    raw: dict[str, list[str]] = {}
    for item in filter(None, parts.query.split("&")):
        name, _, value = item.partition("=")
        raw.setdefault(name, []).append(value)
    head = {"accept": "application/json", **(headers or {})}
    text = None if body is None else body.decode()
    event = load_event(source)
    if source == "apigw_v1":
        event.update(
            httpMethod=method,
            path=parts.path.removeprefix("/v1"),
            queryStringParameters={name: values[-1] for name, values in decoded.items()},
            multiValueQueryStringParameters=decoded,
            headers=head,
            multiValueHeaders={name: [value] for name, value in head.items()},
            body=text,
        )
        event["requestContext"].update(httpMethod=method, path=parts.path)
    elif source in ("apigw_v2", "function_url"):
        event.update(
            rawPath=parts.path,
            rawQueryString=parts.query,
            queryStringParameters={name: ",".join(values) for name, values in decoded.items()},
            headers=head,
            body=text,
        )
        event.pop("cookies")
        event["requestContext"]["http"].update(method=method, path=parts.path)
    elif source == "alb":
        event.update(
            httpMethod=method,
            path=parts.path,
            queryStringParameters={name: values[-1] for name, values in raw.items()},
            headers=head,
            body=text or "",
        )
    else:  # alb_multivalue: every value, and a base64 body
        event.update(
            httpMethod=method,
            path=parts.path,
            multiValueQueryStringParameters=raw,
            multiValueHeaders={name: [value] for name, value in head.items()},
            body=base64.b64encode(body or b"").decode(),
        )
    return event


def create_event(
    body: bytes | str,
    source: str = "apigw_v1",
    *,
    method: str = "POST",
    content_type: str | None = "application/json",
    base64_body: bool = False,
) -> dict[str, Any]:
    """A POST /urls event from API Gateway (REST or HTTP API) or a function URL."""
    data = body.encode() if isinstance(body, str) else body
    headers = {} if content_type is None else {"content-type": content_type}
    path = "/urls" if source == "function_url" else "/v1/urls"
    event = event_for(f"https://example.invalid{path}", source, method=method, headers=headers)
    event["body"] = base64.b64encode(data).decode() if base64_body else data.decode()
    event["isBase64Encoded"] = base64_body
    if source == "apigw_v1":
        event["resource"] = "/urls"
    return event


def answer_json(answer: dict[str, Any]) -> Any:
    """The JSON body of a Lambda HTTP answer."""
    body = answer["body"]
    return json.loads(base64.b64decode(body) if answer["isBase64Encoded"] else body)


def blog_request(token: str, **extra: Any) -> dict[str, Any]:
    """The blog post's create-URLs request."""
    return {
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}},
            {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben rejected it"},
        ],
        **extra,
    }


# --- HTTP on loopback -------------------------------------------------------------------------


@dataclass
class Answer:
    """An HTTP answer as a client saw it."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[tuple[str, int]]:
    """Serve the WSGI ``app`` with wsgiref in a thread on 127.0.0.1; yields (host, port)."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


# --- logs --------------------------------------------------------------------------------------


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of one of the handler's log records."""
    return {name: getattr(record, name) for name in LOG_FIELDS if hasattr(record, name)}


def callback_records(records: Iterable[logging.LogRecord]) -> list[dict[str, Any]]:
    """The fields of every callback record among ``records`` (a handler's, or the app's)."""
    return [record_fields(r) for r in records if getattr(r, "event", None) == "callback"]


# --- Markdown snippets -------------------------------------------------------------------------


_SNIPPET = re.compile(
    r'^(?P<indent>[ \t]*)```python title="(?P<name>[\w./]+)"\n(?P<code>.*?)^(?P=indent)```',
    re.DOTALL | re.MULTILINE,
)


#: A whole file included by pymdownx.snippets, the path relative to the repository's root.
_INCLUDE = re.compile(r'^--8<-- "(?P<path>[^"]+)"\n?\Z')
_ROOT = Path(__file__).resolve().parents[1]


def markdown_snippets(path: Path) -> dict[str, str]:
    """The titled Python blocks (```python title="name.py"```) of a Markdown page, by name.

    Blocks inside tabs or admonitions are indented: the indentation is removed. A block that
    includes a file (``--8<-- "examples/..."``) is that file's text, as the site shows it.
    """
    text = path.read_text(encoding="utf-8")
    snippets = {}
    for match in _SNIPPET.finditer(text):
        code = textwrap.dedent(
            "".join(
                line[len(match["indent"]) :] if line.strip() else "\n"
                for line in match["code"].splitlines(keepends=True)
            )
        )
        include = _INCLUDE.match(code)
        if include is not None:
            code = (_ROOT / include["path"]).read_text(encoding="utf-8")
        snippets[Path(match["name"]).name] = code
    return snippets


def load_snippet(directory: Path, name: str, code: str) -> ModuleType:
    """Write ``code`` to ``directory/name`` and import it as a fresh module."""
    path = directory / name
    path.write_text(code, encoding="utf-8")
    return import_file(path, f"snippet_{path.stem}", keep=False)


# --- scripts -----------------------------------------------------------------------------------


def import_file(path: Path, name: str, *, keep: bool = True) -> ModuleType:
    """Import the Python file at ``path`` (a script, an example, a snippet) as module ``name``.

    The module is in ``sys.modules`` while it runs (dataclasses look their module up by name) and,
    unless ``keep`` is false, afterwards.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if not keep:
            sys.modules.pop(name, None)
    return module


def sealed_plaintext(claims: Any) -> bytes:
    """The plaintext ``Codec.seal()`` puts in a blob, read from a signed blob (in clear there)."""
    from sfn_callback_urls._codec import Codec, Mode, _b64decode_canonical, _header_parts
    from sfn_callback_urls.keys import LocalKey

    raw = _b64decode_canonical(Codec(LocalKey.generate(), mode=Mode.SIGNED).seal(claims))
    parts = _header_parts(raw)
    assert parts is not None
    return raw[parts[2] : -16]  # the signed format: header || plaintext || tag(16)


def moto_child_environ(endpoint_url: str, tmp_path: Path, **variables: str) -> dict[str, str]:
    """The environment of a child interpreter that talks to a moto server and nothing else.

    Only ``PATH`` is kept from ours; the AWS config and credentials files point at nothing, so
    no profile of the machine can reach the child.
    """
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        **variables,
    }


#: The security headers every answer carries (stated here, not taken from the code under test).
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_security_headers(headers: dict[str, str]) -> None:
    """Every answer carries the four security headers."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for name, value in SECURITY_HEADERS.items():
        assert lowered.get(name) == value, f"{name} missing or wrong in {lowered}"


def query_of(url: str) -> str:
    """The query string of a URL."""
    return urlsplit(url).query
