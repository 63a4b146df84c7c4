"""What users' calls cost: per call against a raw AES-GCM floor, and a Lambda's cold start.

Run with ``nox -s bench`` or ``python benchmarks/bench.py`` (``--quick`` for a smoke test,
``--json PATH`` to also write every number as JSON, ``--json -`` for JSON on stdout instead of
the table). ``docs/benchmarks.md`` explains every row and how the numbers are produced.

**Warm rows.** Every row seals or opens the same payload: a task token of the real shape (684
characters) and the blog post's approve action, expiring in 7 days. Each row is one call, timed
per call (per URL for the minting calls) and divided by the raw floor measured in the same run:
``seal`` rows by the floor's seal, ``open`` rows by the floor's open. The groups are

- ``floor``: AES-GCM + ``json`` + base64 of the payload, nothing else;
- ``user``: the calls users make, through the public API only (``Minter.mint``,
  ``create_urls_handler``, ``open_callback``, ``CallbackHandler.handle``,
  ``process_callback_handler``), with Step Functions stubbed by a client that does no I/O;
- ``peer``: Fernet and itsdangerous doing the same JSON work;
- ``inner``: ``Codec.seal``/``Codec.open`` alone (no user calls these), local and KMS keys;
- ``original``: the original app's Encryption SDK formats.

Timing: ``timeit`` (garbage collector off during the timed loop, as ``timeit`` does) with this
process's CPU time, N calls per repeat calibrated to ``--target-time``; ``--repeat`` repeats
interleaved across all rows; every row, the floor included, reports the **minimum** over its
repeats (the median is in the JSON).

**Cold rows.** Each is the median over ``--cold-runs`` fresh interpreters (``python -c``) of
the time measured inside the child with ``time.perf_counter()`` around the work, next to the
wall time of the whole process; the kinds run interleaved, after one discarded warm-up each
(which also writes the bytecode caches).

The exit status is 1 when a target is missed, so ``nox -s bench`` doubles as a check.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import base64
import copy
import itertools
import json
import logging
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from results import (  # beside this script, shared with figures.py
    HEAVY_MODULES,
    MAX_AWS_LAMBDA_IMPORT_OVER_BOTO3_MS,
    MAX_COLD_MINT_RATIO,
    ColdResult,
    ColdSummary,
    RowResult,
    Side,
    cold_table,
    make_task_token,
    markdown_table,
    verdict,
)

import sfn_callback_urls.aws_lambda as aws_lambda
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Claims,
    Codec,
    CreateUrlsRequest,
    FailureAction,
    KmsDerivedKey,
    KmsEnvelopeKey,
    LocalKey,
    Minter,
    Mode,
    SuccessAction,
    open_callback,
)
from sfn_callback_urls._urls import callback_url  # a peer's blob in our URL shape

#: API Gateway-shaped base URL for the approve URL's length.
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
#: Lifetime of the URLs, as in the blog post.
EXPIRES_IN = timedelta(days=7)
#: The approve action, as the original app's request JSON has it.
APPROVE = {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}}
#: The reject action of the two-action rows.
REJECT = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"}
#: A real API Gateway REST (payload 1.0) event; the rows replace its method, path and query.
APIGW_EVENT = Path(__file__).resolve().parents[1] / "tests" / "events" / "apigw_v1.json"
#: Open rows cycle through this many different blobs (URLs, requests, events), as a server
#: opens a different URL each time: the same one over and over would flatter the branch
#: predictor and the caches.
POOL_SIZE = 256
#: What a browser sends as Accept when a person clicks the link (from that event).
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# Targets, as ratios to the floor of the same side in the same run (issue 11).
MAX_MINT_RATIO = 2.0  # Minter.mint per URL (goal 1.7x)
MAX_CREATE_URLS_RATIO = 2.5  # create_urls_handler, direct invocation
MAX_OPEN_CALLBACK_RATIO = 1.8  # open_callback (goal 1.5x)
MAX_HANDLE_RATIO = 2.5  # CallbackHandler.handle GET, Step Functions stubbed
MAX_INNER_RATIO = 2.0  # Codec.seal / Codec.open with a local key
MAX_KMS_RATIO = 2.5  # Codec.seal / Codec.open with KMS keys, warm caches

#: Derived-mode blob: at most this many characters longer than the local-key encrypted blob.
MAX_DERIVED_EXTRA = 40
#: Envelope-mode blob length target (characters), checked on the AWS estimate.
MAX_ENVELOPE_BLOB = 1200
#: Encrypted data key (``CiphertextBlob``) sizes: moto's, and about what AWS returns.
MOTO_DATA_KEY_BYTES = 96
AWS_DATA_KEY_BYTES = 185
#: Tokens minted and opened with cold backends to count KMS calls.
KMS_COUNT_TOKENS = 1000
#: Length targets (characters).
MAX_ENCRYPTED_BLOB = 900
MAX_URL = 1024  # classic Outlook cuts links here
#: Length goals of issue 11 (reported, not gating): room for longer base URLs under 1,024.
GOAL_ENCRYPTED_BLOB = 800

OURS_ENCRYPTED = "inner sfn-callback-urls (encrypted)"


# --- the payload ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """What every row seals. All inputs are fixed, so only the calls are timed."""

    token: str
    action: dict[str, Any]
    action_model: SuccessAction
    transaction_id: str
    issued_at: datetime
    expires_at: datetime
    #: The time verification is checked at.
    now: datetime

    @property
    def iat(self) -> int:
        return int(self.issued_at.timestamp())

    @property
    def exp(self) -> int:
        return int(self.expires_at.timestamp())

    @classmethod
    def default(cls) -> Payload:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        rng = random.Random(1)  # noqa: S311 - deterministic test data, not a secret
        return cls(
            token=make_task_token(),
            action=copy.deepcopy(APPROVE),
            action_model=SuccessAction.model_validate(APPROVE),
            transaction_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            issued_at=now,
            expires_at=now + EXPIRES_IN,
            now=now,
        )

    def simple_dict(self) -> dict[str, Any]:
        """The payload the raw floor, itsdangerous and Fernet serialize."""
        return {
            "token": self.token,
            "action": self.action,
            "tid": self.transaction_id,
            "exp": self.exp,
        }

    def claims(self) -> Claims:
        """The payload as the library's claims (what ``Codec.seal`` takes)."""
        return Claims(
            token=self.token,
            action=self.action_model,
            transaction_id=self.transaction_id,
            issued_at=self.issued_at,
            expires_at=self.expires_at,
        )


# --- rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One timed call: a line of the table.

    Attributes:
        name: the row's label.
        group: ``floor``, ``user``, ``peer``, ``inner`` or ``original``.
        side: which floor it is divided by: ``seal`` (mint-like) or ``open`` (verify-like).
        description: exactly what is timed, for the docs and the JSON.
        func: the call; its result is discarded.
        per_call: URLs (or blobs) one call of ``func`` makes; times are per URL.
        max_ratio: the target (ratio to the floor of ``side``), if any.
        blob_chars: length of the blob this row makes (seal rows), if known.
        url_chars: length of the approve URL this row makes (seal rows), if known.
        aws_blob_chars: AWS-estimated blob length (KMS envelope rows under moto).
        kms_calls: KMS calls per ``KMS_COUNT_TOKENS`` tokens, this row's side.
        kms_calls_computed: ``kms_calls`` is computed, not counted.
    """

    name: str
    group: str
    side: Side
    description: str
    func: Callable[[], object]
    per_call: int = 1
    max_ratio: float | None = None
    blob_chars: int | None = None
    url_chars: int | None = None
    aws_blob_chars: int | None = None
    kms_calls: int | None = None
    kms_calls_computed: bool = False


@dataclass
class Case:
    """An implementation that seals and opens the payload: becomes a seal row and an open row.

    Attributes:
        name: the implementation's label; the rows are ``"{name}: {mint_label}"`` etc.
        group: the rows' group.
        description: what it is.
        mint: seals the payload; returns the blob (the URL's ``data`` parameter).
        verify: opens a blob; returns the task token it carried.
        mint_label, verify_label: the calls, as the rows name them.
        url: builds the whole approve URL (default: the library's URL shape around the blob).
        max_ratio: speed target for both rows, if any.
        max_blob, max_url, max_blob_over, aws_blob_extra: length targets (see `check_targets`).
        kms_calls: KMS calls to mint and to open ``KMS_COUNT_TOKENS`` tokens, or ``None``.
        kms_calls_computed: ``kms_calls`` is computed, not counted.
    """

    name: str
    group: str
    description: str
    mint: Callable[[], str]
    verify: Callable[[str], str]
    mint_label: str = "seal"
    verify_label: str = "open"
    url: Callable[[str], str] | None = None
    max_ratio: float | None = None
    max_blob: int | None = None
    max_url: int | None = None
    max_blob_over: tuple[str, int] | None = None
    aws_blob_extra: int | None = None
    kms_calls: tuple[int, int] | None = None
    kms_calls_computed: bool = False
    #: Filled in by `case_rows`.
    blob_chars: int = 0
    url_chars: int = 0

    def seal_row_name(self) -> str:
        return f"{self.name}: {self.mint_label}"


def case_rows(case: Case, p: Payload) -> list[Row]:
    """Check ``case`` once (its blob opens to the token), measure its lengths, make its rows."""
    blob = case.mint()
    if case.verify(blob) != p.token:
        raise AssertionError(f"{case.name}: verify did not give back the task token")
    url = (case.url or (lambda b: callback_url(BASE_URL, p.action_model, b)))(blob)
    case.blob_chars, case.url_chars = len(blob), len(url)
    mint_kms, open_kms = case.kms_calls if case.kms_calls is not None else (None, None)
    next_blob = itertools.cycle([blob] + [case.mint() for _ in range(POOL_SIZE - 1)]).__next__

    def verify() -> object:
        return case.verify(next_blob())

    return [
        Row(
            name=case.seal_row_name(),
            group=case.group,
            side="seal",
            description=f"{case.description} Timed: {case.mint_label}.",
            func=case.mint,
            max_ratio=case.max_ratio,
            blob_chars=len(blob),
            url_chars=len(url),
            aws_blob_chars=None if case.aws_blob_extra is None else len(blob) + case.aws_blob_extra,
            kms_calls=mint_kms,
            kms_calls_computed=case.kms_calls_computed,
        ),
        Row(
            name=f"{case.name}: {case.verify_label}",
            group=case.group,
            side="open",
            description=f"{case.description} Timed: {case.verify_label}.",
            func=verify,
            max_ratio=case.max_ratio,
            kms_calls=open_kms,
            kms_calls_computed=case.kms_calls_computed,
        ),
    ]


# --- the floor -----------------------------------------------------------------------------

FLOOR_NAME = "floor: AES-256-GCM + json + base64url"


def floor_case(p: Payload) -> list[Case]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))  # built once, as the codec caches its own

    def mint() -> str:
        data = json.dumps(p.simple_dict()).encode()
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + aead.encrypt(nonce, data, None)).decode("ascii")

    def verify(blob: str) -> str:
        raw = base64.urlsafe_b64decode(blob)
        token: str = json.loads(aead.decrypt(raw[:12], raw[12:], None))["token"]
        return token

    return [
        Case(
            name=FLOOR_NAME,
            group="floor",
            description=(
                "The least an encrypted format can do: json.dumps of {token, action, tid, exp}, "
                "a random 12-byte nonce, AESGCM.encrypt (cipher object built once), "
                "urlsafe_b64encode; open = decode + decrypt + json.loads. No header, no key "
                "id, no expiry check, no validation."
            ),
            mint=mint,
            verify=verify,
        )
    ]


# --- the calls users make ------------------------------------------------------------------


class StubStepFunctions:
    """A Step Functions client that answers at once: the AWS call is not ours to time.

    It is passed where users pass their boto3 client (``CallbackHandler(stepfunctions_client=)``
    and ``App(settings, stepfunctions_client=)``), so the library's own ``complete()`` (output
    encoding, limits, dispatch) stays in the timed path; only botocore is left out.
    """

    def __init__(self) -> None:
        self.count = 0
        self.last: tuple[str, str] | None = None

    def _record(self, kind: str, token: str) -> object:
        # A count and the last call only: a list of every call would grow for millions of calls.
        self.count += 1
        self.last = (kind, token)
        return {}

    def send_task_success(self, *, taskToken: str, output: str) -> object:
        return self._record("success", taskToken)

    def send_task_failure(
        self,
        *,
        taskToken: str,
        error: str = "",
        cause: str = "",
    ) -> object:
        return self._record("failure", taskToken)

    def send_task_heartbeat(self, *, taskToken: str) -> object:
        return self._record("heartbeat", taskToken)

    def reset(self) -> None:
        self.count = 0
        self.last = None


def _query_of(url: str) -> str:
    return url.split("?", 1)[1]


def _apigw_event(**changes: Any) -> dict[str, Any]:
    """The sample REST event with ``changes`` applied (``requestContext`` keys merged)."""
    event: dict[str, Any] = json.loads(APIGW_EVENT.read_text())
    context = changes.pop("requestContext", {})
    event.update(changes)
    event["requestContext"].update(context)
    return event


def user_rows(p: Payload) -> list[Row]:
    """The calls users make, through the public API, with one local key.

    The key is also put in the environment (``SFN_CALLBACK_URLS_KEY``, with
    ``CALLBACK_BASE_URL``) for the ready Lambda handlers of ``sfn_callback_urls.aws_lambda``.
    """
    key_string = LocalKey.generate().to_string()
    codec = Codec(LocalKey.from_string(key_string))
    minter = Minter(codec, BASE_URL)
    approve = SuccessAction.model_validate(APPROVE)
    reject = FailureAction.model_validate(REJECT)
    expiration = (p.now + EXPIRES_IN).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows: list[Row] = []

    # Minter.mint, one and two actions.
    def mint_one() -> object:
        return minter.mint(p.token, [approve], expires_in=EXPIRES_IN)

    def mint_two() -> object:
        return minter.mint(p.token, [approve, reject], expires_in=EXPIRES_IN)

    url = minter.mint(p.token, [approve], expires_in=EXPIRES_IN).urls["approve"]
    blob = open_callback(codec, url).claims  # checks the URL opens to the payload
    assert blob.token == p.token
    assert blob.action == approve
    both = minter.mint(p.token, [approve, reject], expires_in=EXPIRES_IN).urls
    assert set(both) == {"approve", "reject"}
    data = url.rsplit("data=", 1)[1]
    rows += [
        Row(
            "Minter.mint(token, [approve]), per URL",
            "user",
            "seal",
            "minter = Minter(Codec(LocalKey), base_url); "
            "minter.mint(token, [approve], expires_in=timedelta(days=7)) with the action model "
            "built once; returns a CreateUrlsResponse with one URL.",
            mint_one,
            max_ratio=MAX_MINT_RATIO,
            blob_chars=len(data),
            url_chars=len(url),
        ),
        Row(
            "Minter.mint(token, [approve, reject]), per URL",
            "user",
            "seal",
            "As above with an approve and a reject (failure) action; the time of one call "
            "divided by its 2 URLs.",
            mint_two,
            per_call=2,
            max_ratio=MAX_MINT_RATIO,
        ),
    ]

    # The ready Lambda handlers, configured by environment.
    os.environ["CALLBACK_BASE_URL"] = BASE_URL
    os.environ["SFN_CALLBACK_URLS_KEY"] = key_string
    aws_lambda.reset_app()
    request = {"token": p.token, "actions": [APPROVE], "expiration": expiration}
    answer = aws_lambda.create_urls_handler(request, None)
    assert "error" not in answer, answer
    answer_tid = answer["transaction_id"]
    assert set(answer["urls"]) == {"approve"}
    # The seam for process_callback_handler: an App built from the same environment with a stub
    # client, installed as the module's app with reset_app(app). Checked below, so
    # a renamed global fails here instead of silently timing a real boto3 client.
    stub = StubStepFunctions()
    app = aws_lambda.App.from_environment(stepfunctions_client=stub)
    aws_lambda.reset_app(app)
    assert aws_lambda.get_app() is app

    def create_direct() -> object:
        return aws_lambda.create_urls_handler(request, None)

    post_urls = _apigw_event(
        resource="/urls",
        path="/urls",
        httpMethod="POST",
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
        body=json.dumps(request),
        requestContext={"resourcePath": "/urls", "path": "/v1/urls", "httpMethod": "POST"},
    )
    post_urls["headers"]["Content-Type"] = "application/json"
    post_urls["multiValueHeaders"]["Content-Type"] = ["application/json"]
    answer = aws_lambda.create_urls_handler(post_urls, None)
    assert answer["statusCode"] == 200, answer
    assert open_callback(codec, json.loads(answer["body"])["urls"]["approve"]).claims.token == (
        p.token
    )

    def create_apigw() -> object:
        return aws_lambda.create_urls_handler(post_urls, None)

    rows += [
        Row(
            "create_urls_handler(request, None), direct",
            "user",
            "seal",
            "sfn_callback_urls.aws_lambda.create_urls_handler invoked directly with "
            '{"token", "actions": [approve], "expiration": "...Z"}; configured by environment '
            "(SFN_CALLBACK_URLS_KEY, CALLBACK_BASE_URL); returns the response JSON dict.",
            create_direct,
            max_ratio=MAX_CREATE_URLS_RATIO,
        ),
        Row(
            "create_urls_handler(API Gateway REST POST /urls)",
            "user",
            "seal",
            "The same request as the JSON body of an API Gateway REST proxy event "
            "(tests/events/apigw_v1.json as POST /urls); returns the proxy answer.",
            create_apigw,
        ),
    ]

    # What create_urls_handler must do besides minting, each on its own: validate the untrusted
    # request, and make the mint's audit record (the ready app logs one per mint at INFO; here
    # without a handler, so only the record is made). Rows of the "kept" group: no target.
    audit_logger = logging.getLogger("bench.audit")
    audit_logger.setLevel(logging.INFO)
    audit_logger.propagate = False
    audit_fields = {
        "event": "mint",
        "transaction_id": answer_tid,
        "actions": ["approve"],
        "types": ["success"],
        "expires_at": expiration,
        "output_parameters": False,
    }
    rows += [
        Row(
            "kept work: CreateUrlsRequest.model_validate(request)",
            "kept",
            "seal",
            "The pydantic validation of create_urls_handler's request dict (token, one action, "
            "expiration text), as parse_create_urls_request does it; a part of the row above.",
            lambda: CreateUrlsRequest.model_validate(request),
        ),
        Row(
            "kept work: one audit log record (logging, no handler)",
            "kept",
            "seal",
            "audit_logger.info(message, extra={transaction id, actions, types, expiry, ...}) "
            "on a stdlib logger at INFO with no handler: the record the ready app makes per "
            "mint, without writing it anywhere.",
            lambda: audit_logger.info("minted 1 callback URL(s) (approve)", extra=audit_fields),
        ),
    ]

    # Opening and handling approve URLs: a different URL each call (see POOL_SIZE).
    urls = [url] + [
        minter.mint(p.token, [approve], expires_in=EXPIRES_IN).urls["approve"]
        for _ in range(POOL_SIZE - 1)
    ]
    next_url = itertools.cycle(urls).__next__

    def open_url() -> object:
        return open_callback(codec, next_url())

    handler = CallbackHandler(codec, stepfunctions_client=stub)
    headers = {"accept": BROWSER_ACCEPT, "user-agent": "Mozilla/5.0 (X11; Linux x86_64)"}
    gets = [CallbackRequest("GET", query=_query_of(u), headers=headers) for u in urls]
    response = handler.handle(gets[0])
    assert response.status == 200, response
    assert (stub.count, stub.last) == (1, ("success", p.token))
    next_get = itertools.cycle(gets).__next__

    def handle_get() -> object:
        return handler.handle(next_get())

    get_events = [
        _apigw_event(
            queryStringParameters={"action": "approve", "type": "success", "data": blob},
            multiValueQueryStringParameters={
                "action": ["approve"],
                "type": ["success"],
                "data": [blob],
            },
        )
        for blob in (u.rsplit("data=", 1)[1] for u in urls)
    ]
    stub.reset()
    answer = aws_lambda.process_callback_handler(get_events[0], None)
    assert answer["statusCode"] == 200, answer
    assert (stub.count, stub.last) == (1, ("success", p.token))
    next_event = itertools.cycle(get_events).__next__

    def process_get() -> object:
        return aws_lambda.process_callback_handler(next_event(), None)

    rows += [
        Row(
            "open_callback(codec, url)",
            "user",
            "open",
            "open_callback(codec, approve_url): parse the query, open and check the blob, "
            "match action/type; returns an OpenedCallback.",
            open_url,
            max_ratio=MAX_OPEN_CALLBACK_RATIO,
        ),
        Row(
            "CallbackHandler.handle(GET), Step Functions stubbed",
            "user",
            "open",
            "CallbackHandler(codec, stepfunctions_client=stub).handle(CallbackRequest('GET', "
            "query=..., headers={accept: a browser's, user-agent})): open, check, resolve, "
            "complete() through a stub client that answers at once, render the HTML page, "
            "build the log line (logging left unconfigured: INFO is not emitted).",
            handle_get,
            max_ratio=MAX_HANDLE_RATIO,
        ),
        Row(
            "process_callback_handler(API Gateway REST GET)",
            "user",
            "open",
            "sfn_callback_urls.aws_lambda.process_callback_handler with the API Gateway REST "
            "event of a browser's GET /respond (tests/events/apigw_v1.json with the URL's "
            "query), the app's Step Functions client a stub (App(settings, "
            "stepfunctions_client=stub) installed as the module's app).",
            process_get,
        ),
    ]
    stub.reset()
    return rows


# --- peers ---------------------------------------------------------------------------------


def itsdangerous_case(p: Payload) -> list[Case]:
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(os.urandom(32))
    max_age = int(EXPIRES_IN.total_seconds()) + 60

    def mint() -> str:
        return serializer.dumps(p.simple_dict())

    def verify(blob: str) -> str:
        token: str = serializer.loads(blob, max_age=max_age)["token"]
        return token

    return [
        Case(
            name="itsdangerous URLSafeTimedSerializer",
            group="peer",
            description=(
                "Signed, not encrypted (HMAC-SHA1 over compact JSON, zlib-compressed when shorter, "
                "plus a timestamp)."
            ),
            mint=mint,
            verify=verify,
            mint_label="dumps",
            verify_label="loads(max_age=)",
        )
    ]


def fernet_case(p: Payload) -> list[Case]:
    from cryptography.fernet import Fernet

    fernet = Fernet(Fernet.generate_key())
    ttl = int(EXPIRES_IN.total_seconds()) + 60

    def mint() -> str:
        return fernet.encrypt(json.dumps(p.simple_dict()).encode()).decode("ascii")

    def verify(blob: str) -> str:
        token: str = json.loads(fernet.decrypt(blob, ttl=ttl))["token"]
        return token

    return [
        Case(
            name="cryptography Fernet",
            group="peer",
            description=(
                "AES-128-CBC + HMAC-SHA256 with a timestamp, base64url with padding, on the "
                "floor's JSON."
            ),
            mint=mint,
            verify=verify,
            mint_label="encrypt(json)",
            verify_label="decrypt(ttl=) + json.loads",
        )
    ]


# --- inner: the codec alone ----------------------------------------------------------------


def inner_cases(p: Payload) -> list[Case]:
    cases = []
    for mode, label in ((Mode.ENCRYPTED, "encrypted"), (Mode.SIGNED, "signed")):
        codec = Codec(LocalKey.generate(), mode=mode)
        minter = Minter(codec, BASE_URL)

        def mint(codec: Codec = codec) -> str:
            return codec.seal(p.claims())

        def verify(blob: str, codec: Codec = codec) -> str:
            return codec.open(blob, now=p.now).token

        def url(_blob: str, minter: Minter = minter) -> str:
            response = minter.mint(p.token, [p.action_model], expires_at=p.expires_at, now=p.now)
            return response.urls["approve"]

        cases.append(
            Case(
                name=f"inner sfn-callback-urls ({label})",
                group="inner",
                description=(
                    f"Codec(LocalKey.generate(), mode=Mode.{mode.name}); seal = "
                    "codec.seal(Claims(...)) including building the Claims; "
                    "open = codec.open(blob, now=...). URL from Minter.mint()."
                ),
                mint=mint,
                verify=verify,
                mint_label="Codec.seal(Claims(...))",
                verify_label="Codec.open(blob)",
                url=url,
                max_ratio=MAX_INNER_RATIO,
                max_blob=MAX_ENCRYPTED_BLOB if mode is Mode.ENCRYPTED else None,
                max_url=MAX_URL,
                kms_calls=(0, 0),
            )
        )
    return cases


# --- KMS backends (inner) ------------------------------------------------------------------


def _start_moto() -> None:
    """Start moto's in-process AWS mock for the rest of the run (stopped at exit)."""
    from moto import mock_aws

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    mock = mock_aws()
    mock.start()
    atexit.register(mock.stop)


def _kms_client(calls: list[str] | None = None) -> Any:
    """A KMS client; with ``calls``, every KMS API call it makes is appended to that list."""
    import boto3

    client = boto3.client("kms", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    if calls is not None:

        def counter(event_name: str, **_kwargs: Any) -> None:
            calls.append(event_name.rsplit(".", 1)[-1])

        client.meta.events.register("before-call.kms.*", counter)
    return client


def kms_cases(p: Payload) -> list[Case]:
    """KmsEnvelopeKey and KmsDerivedKey under moto, encrypted mode, warm caches.

    Minting and opening use separate backend instances, each with its own client, like a
    create-URLs Lambda and a handler Lambda; both are warmed by one mint/open before timing.
    """
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"moto is not installed ({exc}); pip install 'moto[kms]'") from exc
    _start_moto()
    setup = _kms_client()
    symmetric = str(setup.create_key()["KeyMetadata"]["Arn"])
    hmac = str(
        setup.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    )

    def count_calls(
        backend: type[KmsEnvelopeKey] | type[KmsDerivedKey], key_id: str
    ) -> tuple[int, int]:
        """KMS calls to mint, then open, KMS_COUNT_TOKENS fresh tokens with cold backends."""
        mint_calls: list[str] = []
        open_calls: list[str] = []
        minter = Codec(backend(key_id, client=_kms_client(mint_calls)))
        opener = Codec(backend(key_id, client=_kms_client(open_calls)))
        blobs = [minter.seal(p.claims()) for _ in range(KMS_COUNT_TOKENS)]
        assert len(set(blobs)) == KMS_COUNT_TOKENS
        for blob in blobs:
            assert opener.open(blob, now=p.now).token == p.token
        return len(mint_calls), len(open_calls)

    cases = []
    for backend, key_id, label in (
        (KmsEnvelopeKey, symmetric, "envelope"),
        (KmsDerivedKey, hmac, "derived"),
    ):
        mint_codec = Codec(backend(key_id, client=_kms_client()))
        open_codec = Codec(backend(key_id, client=_kms_client()))
        open_codec.open(mint_codec.seal(p.claims()), now=p.now)  # warm both caches

        def mint(codec: Codec = mint_codec) -> str:
            return codec.seal(p.claims())

        def verify(blob: str, codec: Codec = open_codec) -> str:
            return codec.open(blob, now=p.now).token

        envelope = backend is KmsEnvelopeKey
        cases.append(
            Case(
                name=f"inner KMS {label} (moto, warm cache)",
                group="inner",
                description=(
                    f"Codec({backend.__name__}(arn, client=...)) against moto in-process, "
                    "encrypted mode; seal = codec.seal(Claims(...)) as in the local-key rows, "
                    "open = codec.open(blob, now=...) on a separate backend instance with its "
                    "own client (as in a handler). Both caches warmed by one mint/open before "
                    "timing, so no KMS call is timed."
                ),
                mint=mint,
                verify=verify,
                mint_label="Codec.seal(Claims(...))",
                verify_label="Codec.open(blob)",
                max_ratio=MAX_KMS_RATIO,
                max_blob=MAX_ENVELOPE_BLOB if envelope else None,
                max_blob_over=None if envelope else (OURS_ENCRYPTED, MAX_DERIVED_EXTRA),
                aws_blob_extra=(
                    math.ceil((AWS_DATA_KEY_BYTES - MOTO_DATA_KEY_BYTES) * 4 / 3)
                    if envelope
                    else None
                ),
                kms_calls=count_calls(backend, key_id),
            )
        )
    return cases


# --- the original app ----------------------------------------------------------------------


def original_app_cases(p: Payload) -> list[Case]:
    """The original app's encrypted payloads, reimplemented from its description.

    The payload is ``json.dumps({"token", "iat", "tid", "iss", "exp", "action"})`` (default
    separators; ``tid`` a uuid4 hex; ``iss`` the create-URLs Lambda's ARN, which the deployed app
    always set), encrypted into an AWS Encryption SDK message, base64url-encoded with padding and
    prefixed with the format id. The app used a KMS key; here the data key is wrapped by a local
    AES-256 key (raw master key provider), whose encrypted data key is shorter than KMS's, so the
    lengths below understate the original's. Verify is decode + decrypt + ``json.loads`` only
    (the app also validated a JSON schema): a lower bound.
    """
    import aws_encryption_sdk  # type: ignore[import-untyped]
    from aws_encryption_sdk.identifiers import (  # type: ignore[import-untyped]
        Algorithm,
        CommitmentPolicy,
        EncryptionKeyType,
        WrappingAlgorithm,
    )
    from aws_encryption_sdk.internal.crypto.wrapping_keys import (  # type: ignore[import-untyped]
        WrappingKey,
    )
    from aws_encryption_sdk.key_providers.raw import (  # type: ignore[import-untyped]
        RawMasterKeyProvider,
    )

    class LocalAesKeyProvider(RawMasterKeyProvider):  # type: ignore[misc]
        """A raw AES-256-GCM wrapping key held in memory (the SDK's static-key pattern)."""

        provider_id = "sfn-callback-urls-bench"

        def __init__(self, **kwargs: Any) -> None:
            self._secret = os.urandom(32)

        def _get_raw_key(self, key_id: bytes) -> WrappingKey:
            return WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=self._secret,
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            )

    provider = LocalAesKeyProvider()
    provider.add_master_key(b"bench-key")
    issuer = (
        "arn:aws:lambda:us-east-1:123456789012:function:sfn-callback-urls-CreateUrls-1A2B3C4D5E6F"
    )
    tid = uuid.UUID(p.transaction_id).hex

    def make(
        prefix: str, client: Any, algorithm: Any
    ) -> tuple[Callable[[], str], Callable[[str], str]]:
        extra = {} if algorithm is None else {"algorithm": algorithm}

        def mint() -> str:
            payload = {
                "token": p.token,
                "iat": p.iat,
                "tid": tid,
                "iss": issuer,
                "exp": p.exp,
                "action": p.action,
            }
            message, _header = client.encrypt(
                source=json.dumps(payload).encode(), key_provider=provider, **extra
            )
            return prefix + base64.urlsafe_b64encode(message).decode("ascii")

        def verify(blob: str) -> str:
            version, body = blob.split("-", 1)
            if version + "-" != prefix:
                raise ValueError("wrong format id")
            plaintext, _header = client.decrypt(
                source=base64.urlsafe_b64decode(body), key_provider=provider
            )
            token: str = json.loads(plaintext)["token"]
            return token

        return mint, verify

    # '2-': written by Encryption SDK 1.x, whose default suite is non-committing AES-256-GCM
    # with an ECDSA P-384 signature (message format 1). SDK 4.x still writes it on request.
    v1_client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    mint2, verify2 = make("2-", v1_client, Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384)
    # '3-': the app's current format: SDK 4.x defaults (key-committing suite, ECDSA P-384,
    # message format 2).
    v2_client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    mint3, verify3 = make("3-", v2_client, None)
    return [
        Case(
            name="original app '2-' (Encryption SDK)",
            group="original",
            description=(
                "The original app's '2-' payload: JSON encrypted into an AWS Encryption SDK "
                "message (suite AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384, the SDK 1.x "
                "default), base64url, '2-' prefix. Local raw AES wrapping key instead of KMS."
            ),
            mint=mint2,
            verify=verify2,
            mint_label="encrypt",
            verify_label="decrypt + json.loads",
            kms_calls=(KMS_COUNT_TOKENS, KMS_COUNT_TOKENS),
            kms_calls_computed=True,
        ),
        Case(
            name="original app '3-' (Encryption SDK 4 defaults)",
            group="original",
            description=(
                "The original app's current '3-' payload: as '2-' but with the SDK 4.x default "
                "key-committing suite (AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)."
            ),
            mint=mint3,
            verify=verify3,
            mint_label="encrypt",
            verify_label="decrypt + json.loads",
            kms_calls=(KMS_COUNT_TOKENS, KMS_COUNT_TOKENS),
            kms_calls_computed=True,
        ),
    ]


#: Factories of implementation rows (a seal row and an open row each), in table order after the
#: user rows. A factory may raise ImportError to skip its rows when a library is missing.
CASE_FACTORIES: list[Callable[[Payload], list[Case]]] = [
    itsdangerous_case,
    fernet_case,
    inner_cases,
    kms_cases,
    original_app_cases,
]


# --- measuring warm calls ------------------------------------------------------------------


@dataclass(frozen=True)
class TimingSettings:
    #: Repeats per row, interleaved across rows; the minimum is reported.
    repeat: int = 7
    #: Seconds of CPU time each repeat should take.
    target_time: float = 0.1
    #: Fresh interpreters per cold-start kind; the median is reported.
    cold_runs: int = 9


class Timing:
    """Repeated timing of one callable: N calls per repeat, N calibrated to ``target_time``.

    ``timeit.Timer`` turns the garbage collector off during each timed loop. Times are this
    process's CPU time (``time.process_time``), not wall-clock time: on a shared machine, the
    time spent descheduled while other processes run is not ours to count.
    """

    def __init__(self, func: Callable[[], object], settings: TimingSettings) -> None:
        self.timer = timeit.Timer(func, timer=time.process_time)
        number = 1
        while True:
            elapsed = self.timer.timeit(number)
            if elapsed >= settings.target_time / 5 or number >= 10**7:
                break
            number *= 10 if elapsed < settings.target_time / 50 else 2
        self.number = max(1, math.ceil(number * settings.target_time / max(elapsed, 1e-9)))
        self.repeats: list[float] = []

    def run_once(self) -> None:
        """One repeat of ``number`` calls."""
        self.repeats.append(self.timer.timeit(self.number))


def measure_rows(rows: Sequence[Row], settings: TimingSettings) -> list[RowResult]:
    """Time every row: ``settings.repeat`` repeats, interleaved (each round times every row once).

    Background load on a shared machine comes and goes over seconds; interleaving spreads it
    over all rows alike instead of skewing the ratios of whichever rows it coincided with.
    """
    timings = []
    for row in rows:
        print(f"calibrating {row.name} ...", file=sys.stderr, flush=True)
        timings.append(Timing(row.func, settings))
    for round_ in range(settings.repeat):
        print(f"round {round_ + 1}/{settings.repeat} ...", file=sys.stderr, flush=True)
        for timing in timings:
            timing.run_once()
    results = []
    for row, timing in zip(rows, timings, strict=True):
        per = [t / timing.number / row.per_call * 1e6 for t in timing.repeats]
        results.append(
            RowResult(
                name=row.name,
                group=row.group,
                side=row.side,
                description=row.description,
                us=min(per),
                us_median=statistics.median(per),
                us_repeats=per,
                calls_per_repeat=timing.number,
                per_call=row.per_call,
                max_ratio=row.max_ratio,
                blob_chars=row.blob_chars,
                url_chars=row.url_chars,
                aws_blob_chars=row.aws_blob_chars,
                kms_calls_per_1000=row.kms_calls,
                kms_calls_computed=row.kms_calls_computed,
            )
        )
    floors = {r.side: r for r in results if r.group == "floor"}
    for r in results:
        floor = floors[r.side]
        r.ratio = r.us / floor.us
        r.ratio_median = r.us_median / floor.us_median
        if r.max_ratio is not None:
            r.met = r.ratio <= r.max_ratio
    return results


def measure_in_processes(processes: int, settings: TimingSettings, script: Path) -> list[RowResult]:
    """The warm rows measured in ``processes`` fresh interpreters, one after the other.

    The same row moves by up to a third from one process to the next on a shared machine, far
    more than between the repeats of one process. Each process times
    every row as `measure_rows` does; a row's result is then the median over the processes of
    its minimum and of its ratio (each ratio taken within one process, against that process's
    floor). Every process's ratio is kept in ``ratios_by_process``.
    """
    runs: list[list[dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as folder:
        for index in range(processes):
            print(f"warm process {index + 1}/{processes} ...", file=sys.stderr, flush=True)
            out = Path(folder) / f"warm-{index}.json"
            subprocess.run(  # noqa: S603 - our own interpreter and our own script
                [
                    sys.executable,
                    str(script),
                    "--warm-only",
                    str(out),
                    "--repeat",
                    str(settings.repeat),
                    "--target-time",
                    str(settings.target_time),
                ],
                check=True,
            )
            runs.append(json.loads(out.read_text()))
    combined = []
    for per_process in zip(*runs, strict=True):
        rows = [RowResult(**row) for row in per_process]
        first = rows[0]
        if any(row.name != first.name for row in rows):
            raise RuntimeError("the warm processes measured different rows")
        ratios = [row.ratio for row in rows]
        first.us = statistics.median(row.us for row in rows)
        first.us_median = statistics.median(row.us_median for row in rows)
        first.us_repeats = [us for row in rows for us in row.us_repeats]
        first.ratio = statistics.median(ratios)
        first.ratio_median = statistics.median(row.ratio_median for row in rows)
        first.ratios_by_process = ratios
        if first.max_ratio is not None:
            first.met = first.ratio <= first.max_ratio
        combined.append(first)
    return combined


# --- measuring cold starts -----------------------------------------------------------------

_CHILD_PRELUDE = """\
import os, sys, time
KEY, TOKEN, BASE = os.environ["BENCH_KEY"], os.environ["BENCH_TOKEN"], os.environ["BENCH_BASE"]
t0, c0 = time.perf_counter(), time.process_time()
"""
_CHILD_EPILOGUE = """
t1, c1 = time.perf_counter(), time.process_time()
HEAVY = {heavy!r}
print(repr({{"seconds": t1 - t0, "cpu_seconds": c1 - c0,
             "heavy": [m for m in HEAVY if m in sys.modules], "check": CHECK}}))
"""
_ENCRYPT_ONCE = """\
import base64, json
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
nonce = os.urandom(12)
payload = {"token": TOKEN, "action": ACTION, "tid": "0" * 36, "exp": 0}
blob = base64.urlsafe_b64encode(
    nonce + AESGCM(os.urandom(32)).encrypt(nonce, json.dumps(payload).encode(), None)
)
CHECK = len(blob)
"""


@dataclass(frozen=True)
class ColdKind:
    """One kind of fresh interpreter: the code timed inside it."""

    key: str
    label: str
    code: str
    #: Not compared with a target: shown for context.
    info: bool = False
    #: False: no bytecode cache at all (every module compiled from source, nothing written).
    bytecode: bool = True

    def script(self) -> str:
        return _CHILD_PRELUDE + self.code + _CHILD_EPILOGUE.format(heavy=HEAVY_MODULES)


COLD_KINDS = [
    ColdKind(
        "cold_mint",
        "(a) cold mint: import sfn_callback_urls, Codec(LocalKey.from_string(key)), "
        "Minter(...).mint(token, [approve])",
        "from datetime import timedelta\n"
        "from sfn_callback_urls import Codec, LocalKey, Minter, SuccessAction\n"
        "codec = Codec(LocalKey.from_string(KEY))\n"
        f"action = SuccessAction.model_validate({APPROVE!r})\n"
        "urls = Minter(codec, BASE).mint(TOKEN, [action], expires_in=timedelta(days=7)).urls\n"
        "CHECK = len(urls['approve'])\n",
    ),
    ColdKind(
        "aws_lambda_import",
        "(b) import sfn_callback_urls.aws_lambda",
        "import sfn_callback_urls.aws_lambda\nCHECK = 0\n",
    ),
    ColdKind(
        "pydantic_aead_baseline",
        "(c) import pydantic + cryptography's AESGCM, encrypt once",
        f"ACTION = {APPROVE!r}\nimport pydantic\n" + _ENCRYPT_ONCE,
    ),
    ColdKind("boto3_import", "(d) import boto3", "import boto3\nCHECK = 0\n"),
    ColdKind(
        "package_import",
        "(info) import sfn_callback_urls",
        "import sfn_callback_urls\nCHECK = 0\n",
        info=True,
    ),
    ColdKind(
        "basemodel_aead_baseline",
        "(info) (c) with `from pydantic import BaseModel` instead of `import pydantic`",
        f"ACTION = {APPROVE!r}\nfrom pydantic import BaseModel\n" + _ENCRYPT_ONCE,
        info=True,
    ),
]
COLD_KINDS.append(
    ColdKind(
        "one_model_aead_baseline",
        "(info) (c) that also defines and validates one one-field pydantic model",
        f"ACTION = {APPROVE!r}\nfrom pydantic import BaseModel\n"
        "class OneField(BaseModel):\n    x: int\nOneField(x=1)\n" + _ENCRYPT_ONCE,
        info=True,
    )
)
COLD_KINDS.append(
    ColdKind(
        "cold_mint_no_bytecode",
        "(info) (a) without any bytecode cache (a Lambda package built for another Python)",
        COLD_KINDS[0].code,
        info=True,
        bytecode=False,
    )
)


def run_child(kind: ColdKind, env: dict[str, str]) -> tuple[float, float, float, list[str]]:
    """One fresh interpreter: (ms inside, ms wall, ms CPU inside, heavy modules loaded)."""
    if not kind.bytecode:
        # An empty cache directory that is never written to: every module compiles from source.
        empty = tempfile.mkdtemp(prefix="bench-no-bytecode-")
        atexit.register(shutil.rmtree, empty, ignore_errors=True)
        env = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty}
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and our own code
        [sys.executable, "-c", kind.script()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold child {kind.key} failed:\n{done.stderr}")
    report = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return report["seconds"] * 1e3, wall * 1e3, report["cpu_seconds"] * 1e3, list(report["heavy"])


def measure_cold(p: Payload, settings: TimingSettings) -> dict[str, ColdResult]:
    """Median over ``settings.cold_runs`` fresh interpreters per kind, kinds interleaved.

    The children may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped for them): the
    warm-up run compiles the package once, as a deployment that ships bytecode does.
    """
    dropped = ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    env.update(
        BENCH_KEY=LocalKey.generate().to_string(),
        BENCH_TOKEN=p.token,
        BENCH_BASE=BASE_URL,
    )
    runs: dict[str, list[tuple[float, float, float, list[str]]]] = {k.key: [] for k in COLD_KINDS}
    print("cold starts: one warm-up run each ...", file=sys.stderr, flush=True)
    for kind in COLD_KINDS:
        run_child(kind, env)  # writes bytecode caches, warms the page cache; not counted
    for round_ in range(settings.cold_runs):
        print(f"cold round {round_ + 1}/{settings.cold_runs} ...", file=sys.stderr, flush=True)
        for kind in COLD_KINDS:
            runs[kind.key].append(run_child(kind, env))
    results = {}
    for kind in COLD_KINDS:
        inside = [r[0] for r in runs[kind.key]]
        wall = [r[1] for r in runs[kind.key]]
        cpu = [r[2] for r in runs[kind.key]]
        heavy = sorted({m for r in runs[kind.key] for m in r[3]})
        results[kind.key] = ColdResult(
            key=kind.key,
            label=kind.label,
            info=kind.info,
            ms=statistics.median(inside),
            wall_ms=statistics.median(wall),
            cpu_ms=statistics.median(cpu),
            ms_runs=inside,
            wall_ms_runs=wall,
            cpu_ms_runs=cpu,
            heavy_modules=heavy,
        )
    return results


# --- targets -------------------------------------------------------------------------------


@dataclass
class Target:
    description: str
    measured: str
    met: bool
    #: Goals are reported but do not fail the run.
    gating: bool = True

    @property
    def verdict(self) -> str:
        return verdict(self.met, gating=self.gating)


def check_targets(
    cases: Sequence[Case],
    results: Sequence[RowResult],
    cold: dict[str, ColdResult] | None,
) -> list[Target]:
    targets = [
        Target(
            f"{r.name} <= {r.max_ratio:g}x the floor ({r.side})",
            f"{r.ratio:.2f}x"
            + (
                f" (median of {', '.join(f'{x:.2f}' for x in r.ratios_by_process)})"
                if len(r.ratios_by_process) > 1
                else ""
            ),
            bool(r.met),
        )
        for r in results
        if r.max_ratio is not None
    ]
    by_name = {c.name: c for c in cases}
    for case in cases:
        if case.max_blob is not None:
            targets.append(
                Target(
                    f"{case.name} blob <= {case.max_blob:,} chars",
                    f"{case.blob_chars:,}",
                    case.blob_chars <= case.max_blob,
                )
            )
            if case.aws_blob_extra is not None:
                aws = case.blob_chars + case.aws_blob_extra
                targets.append(
                    Target(
                        f"{case.name} blob, AWS estimate (+{case.aws_blob_extra} chars for a "
                        f"{AWS_DATA_KEY_BYTES}-byte data key instead of moto's "
                        f"{MOTO_DATA_KEY_BYTES}) <= {case.max_blob:,} chars",
                        f"{aws:,}",
                        aws <= case.max_blob,
                    )
                )
        if case.max_blob_over is not None and case.max_blob_over[0] in by_name:
            other, extra = by_name[case.max_blob_over[0]], case.max_blob_over[1]
            over = case.blob_chars - other.blob_chars
            targets.append(
                Target(
                    f"{case.name} blob at most {extra} chars longer than {other.name}",
                    f"+{over} ({case.blob_chars:,} vs {other.blob_chars:,})",
                    over <= extra,
                )
            )
        if case.max_url is not None:
            targets.append(
                Target(
                    f"{case.name} approve URL <= {case.max_url:,} chars",
                    f"{case.url_chars:,}",
                    case.url_chars <= case.max_url,
                )
            )
    if OURS_ENCRYPTED in by_name:
        blob = by_name[OURS_ENCRYPTED].blob_chars
        targets.append(
            Target(
                f"goal: encrypted blob <= {GOAL_ENCRYPTED_BLOB} chars (room for longer base URLs)",
                f"{blob:,}",
                blob <= GOAL_ENCRYPTED_BLOB,
                gating=False,
            )
        )
    if cold is not None:
        a, b = cold["cold_mint"], cold["aws_lambda_import"]
        c, d = cold["pydantic_aead_baseline"], cold["boto3_import"]
        summary = ColdSummary.of(cold)
        targets += [
            Target(
                f"cold mint (a) <= {MAX_COLD_MINT_RATIO:g}x baseline (c) (medians in the child)",
                f"{summary.cold_mint_over_baseline:.2f}x ({a.ms:.1f} ms vs {c.ms:.1f} ms)",
                summary.cold_mint_over_baseline_met,
            ),
            Target(
                f"cold mint loads none of {', '.join(HEAVY_MODULES)}",
                ", ".join(summary.cold_mint_heavy_modules) or "none",
                summary.cold_mint_heavy_modules_met,
            ),
            Target(
                f"import sfn_callback_urls.aws_lambda (b) <= import boto3 (d) + "
                f"{MAX_AWS_LAMBDA_IMPORT_OVER_BOTO3_MS:g} ms",
                f"{summary.aws_lambda_import_minus_boto3_ms:+.1f} ms "
                f"({b.ms:.1f} ms vs {d.ms:.1f} ms)",
                summary.aws_lambda_import_minus_boto3_met,
            ),
        ]
    return targets


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    from cryptography.hazmat.backends.openssl.backend import backend

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for name in ("cryptography", "pydantic", "pydantic-core", "boto3", "itsdangerous", "moto"):
        try:
            versions[name] = version(name)
        except Exception:  # a missing optional package is just not reported
            versions[name] = None
    return {
        "nproc": cpus,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "openssl": backend.openssl_version_text(),
        "versions": versions,
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


# --- output --------------------------------------------------------------------------------


KMS_FOOTNOTE = (
    "KMS calls / 1,000: the KMS API calls made while sealing (seal row) or opening (open row) "
    f"{KMS_COUNT_TOKENS:,} fresh tokens with a cold backend, counted with a botocore "
    "before-call hook; 0 for local keys, - for rows without keys of this library."
)
ORIGINAL_FOOTNOTE = (
    "¹ Computed, not counted: the original app calls KMS once per token (GenerateDataKey "
    "to mint, Decrypt to verify, with no data key cache). Its rows here use a local raw AES "
    "key and make no KMS call."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 3 short repeats, 3 cold runs (numbers are rough)",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="write every number as JSON to PATH; '-' prints JSON instead of the table",
    )
    parser.add_argument("--repeat", type=int, help="repeats per row (default 7)")
    parser.add_argument(
        "--target-time", type=float, help="seconds per repeat (default 0.1)", metavar="SECONDS"
    )
    parser.add_argument(
        "--cold-runs", type=int, help="fresh interpreters per cold-start kind (default 9)"
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start rows")
    parser.add_argument(  # the Lambda rows: benchmarks/lambda_cold.py (not with --quick)
        "--no-lambda", action="store_true", help="skip the Lambda cold-start rows"
    )
    parser.add_argument(
        "--original-build", type=Path, help="the original app's built code: its Lambda rows"
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="fresh interpreters that each time every warm row; the median is reported "
        "(default 3, 1 with --quick: then the rows are timed in this process)",
    )
    parser.add_argument("--warm-only", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument(
        "--figures",
        action="store_true",
        help="then rewrite the figures README.md and docs/ quote (benchmarks/figures.py) from "
        "the --json file",
    )
    args = parser.parse_args(argv)
    if args.figures and (not args.json or args.json == "-" or args.quick):
        parser.error("--figures needs a full run (no --quick) and --json PATH")

    settings = (
        TimingSettings(repeat=3, target_time=0.005, cold_runs=3) if args.quick else TimingSettings()
    )
    settings = TimingSettings(
        repeat=args.repeat or settings.repeat,
        target_time=args.target_time or settings.target_time,
        cold_runs=args.cold_runs or settings.cold_runs,
    )

    info = machine_info()  # before measuring: the load average is then other processes' load
    payload = Payload.default()
    cases = floor_case(payload)
    skipped: list[str] = []
    for factory in CASE_FACTORIES:
        try:
            cases.extend(factory(payload))
        except ImportError as exc:
            skipped.append(f"{factory.__name__}: {exc}")
    case_row_lists = [case_rows(case, payload) for case in cases]
    processes = args.processes or (1 if args.quick else 3)
    if args.warm_only or processes == 1:
        rows = case_row_lists[0] + user_rows(payload)
        rows += [r for rs in case_row_lists[1:] for r in rs]
        results = measure_rows(rows, settings)
        if args.warm_only:  # a child of measure_in_processes
            Path(args.warm_only).write_text(json.dumps([asdict(r) for r in results]))
            return 0
    else:
        results = measure_in_processes(processes, settings, Path(__file__).resolve())
    cold = None if args.no_cold else measure_cold(payload, settings)
    targets = check_targets(cases, results, cold)
    lambdas = None
    if not (args.no_lambda or args.quick):
        import lambda_cold  # beside this script

        lambdas = lambda_cold.measure(original=args.original_build)
        targets += [Target(*target) for target in lambda_cold.targets(lambdas)]
    ok = all(t.met for t in targets if t.gating)

    report = {
        "machine": info,
        "settings": asdict(settings),
        "statistic": (
            f"warm rows: minimum over repeats in each of {processes} process(es), then the "
            "median over the processes; cold rows: median over runs"
        ),
        "processes": processes,
        "payload": {
            "token_chars": len(payload.token),
            "action": payload.action,
            "expires_in_seconds": int(EXPIRES_IN.total_seconds()),
            "base_url": BASE_URL,
        },
        "rows": [asdict(r) for r in results],
        "cold": None if cold is None else {k: asdict(c) for k, c in cold.items()},
        "cold_summary": None if cold is None else asdict(ColdSummary.of(cold)),
        "lambda": None if lambdas is None else [asdict(r) for r in lambdas],
        "lengths": {
            c.name: {"blob_chars": c.blob_chars, "approve_url_chars": c.url_chars} for c in cases
        },
        "notes": [KMS_FOOTNOTE, ORIGINAL_FOOTNOTE],
        "targets": [asdict(t) for t in targets],
        "skipped": skipped,
        "ok": ok,
    }
    if args.json and args.json != "-":
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        if args.figures:
            import figures  # beside this script

            figures.main(["--results", args.json])
    if args.json == "-":
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0 if ok else 1

    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    print(
        f"Python {info['python']} ({info['implementation']}), nproc {info['nproc']}, "
        f"{info['platform']}, {info['openssl']}; {versions}"
    )
    print(
        f"Warm rows: CPU time per call, minimum of {settings.repeat} interleaved repeats of "
        f"~{settings.target_time:g} s each (gc off while timing) in each of {processes} fresh "
        "process(es), median over the processes; ratio = row / floor of the same side (seal or "
        "open) in the same process." + (" --quick: rough numbers." if args.quick else "")
    )
    load = info["load_average_at_start"]
    if load is not None and load > 0.5:
        print(
            f"Warning: load average {load:.2f} at start: other processes share the CPUs, "
            "so the timings (and the ratios) may be noisy. Rerun on a quiet machine."
        )
    print()
    print(markdown_table(results))
    print()
    print(KMS_FOOTNOTE)
    print(ORIGINAL_FOOTNOTE)
    if cold is not None:
        print()
        print(cold_table(cold, settings.cold_runs))
    if lambdas is not None:
        print()
        print(lambda_cold.table(lambdas))
    print()
    print("Targets:")
    for t in targets:
        mark = "x" if t.met else " "
        print(f"- [{mark}] {t.description}: {t.measured} -> {t.verdict}")
    for note in skipped:
        print(f"(skipped {note})")
    print()
    print("All targets met." if ok else "Some targets were MISSED.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
