"""Regressions of the second outside security review, one test group per finding.

Each test drives a public entry point as an attacker (or a caller allowed to create URLs)
would: `CallbackHandler`, the ready Lambda app (`create_urls_handler`,
`process_callback_handler`) on moto, the WSGI app served by ``wsgiref`` on loopback as
``sfn-callback-urls serve`` runs it, and the SAM template read as data. The original app's
``2-`` messages are made with the real aws-encryption-sdk on moto KMS and, for forgeries,
rewritten offline as an attacker would (`forge_header`): no KMS key is needed for that.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import struct
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import boto3
import pytest
from botocore.stub import Stubber

from helpers import (  # tests/ is on sys.path
    APP_BASE_URL,
    REGION,
    FakeStepFunctions,
    KmsCalls,
    answer_json,
    assert_security_headers,
    blob_of,
    create_event,
    event_for,
    query_of,
    serve_wsgi,
    synthetic_token,
)
from original_format import original_payload  # tests/ is on sys.path
from sfn_callback_urls import (
    CallbackHandler,
    CallbackRequest,
    Codec,
    LocalKey,
    Minter,
    SuccessAction,
    parse_action,
)
from sfn_callback_urls._time import utcnow
from sfn_callback_urls.adapters import make_wsgi_app
from sfn_callback_urls.aws_lambda import (
    create_urls_handler,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.errors import InvalidJsonPath

BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
TOKEN = synthetic_token()
APP_LOGGER = "sfn_callback_urls.aws_lambda"
APPROVE = {"name": "approve", "type": "success", "output": {"ok": True}}


# --- helpers ---------------------------------------------------------------------------------


def new_codec() -> Codec:
    """A codec under a fresh local key."""
    return Codec(LocalKey.generate(), purpose="security-review-2")


def mint(codec: Codec, action: Any, *, token: str = TOKEN) -> str:
    """One callback URL for ``action``."""
    return Minter(codec, base_url=BASE_URL).mint(token, [action]).urls[action.name]


def post_json(handler: CallbackHandler, url: str, body: Any) -> Any:
    """POST ``body`` as JSON to ``url`` through ``handler``."""
    return handler.handle(
        CallbackRequest(
            method="POST",
            query=query_of(url),
            headers={"content-type": "application/json", "accept": "application/json"},
            body=json.dumps(body).encode(),
        )
    )


class Capture(logging.Handler):
    """Every record that reaches the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


@pytest.fixture
def root_at_info() -> Iterator[Capture]:
    """The root logger at INFO (the template's ApplicationLogLevel) with a capturing handler."""
    root = logging.getLogger()
    capture = Capture()
    saved = root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved)


# --- aws-encryption-sdk messages, made and forged ----------------------------------------------


def sdk_message(
    key_arn: str, *, context: dict[str, str] | None = None, signed: bool = True
) -> bytes:
    """An aws-encryption-sdk message of an APPROVE payload (the original's suite if ``signed``)."""
    import aws_encryption_sdk
    import botocore.session
    from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy

    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[key_arn], botocore_session=botocore.session.Session()
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    now = utcnow().replace(microsecond=0)
    payload = original_payload(
        TOKEN, APPROVE, iat=now - timedelta(hours=1), exp=now + timedelta(days=7)
    )
    ciphertext, _ = client.encrypt(
        source=payload,
        key_provider=provider,
        encryption_context=context or {},
        algorithm=Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
        if signed
        else Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256,
    )
    return bytes(ciphertext)


def _take(data: bytes, at: int) -> tuple[bytes, int]:
    """A 2-byte-length-prefixed field at ``at``: (its bytes, where the next field starts)."""
    (length,) = struct.unpack_from(">H", data, at)
    return data[at + 2 : at + 2 + length], at + 2 + length


def forge_header(
    message: bytes,
    *,
    context: dict[str, str] | None = None,
    key_arn: str | None = None,
    encrypted_data_key: bytes | None = None,
) -> bytes:
    """``message`` (format 1) with its encryption context, data key's ARN or data key replaced.

    What anyone can do offline with the message format's documentation: nothing here needs a
    key, and the message no longer authenticates (the header's tag no longer matches).
    """
    assert message[0] == 1, "message format 1 (the original's SDK 1.x)"
    fixed = message[:20]  # version, type, algorithm id, message id
    aad, at = _take(message, 20)
    pairs: dict[bytes, bytes] = {}
    if aad:
        (count,) = struct.unpack_from(">H", aad, 0)
        where = 2
        for _ in range(count):
            name, where = _take(aad, where)
            value, where = _take(aad, where)
            pairs[name] = value
    (edk_count,) = struct.unpack_from(">H", message, at)
    assert edk_count == 1
    provider_id, at = _take(message, at + 2)
    provider_info, at = _take(message, at)
    edk, at = _take(message, at)
    rest = message[at:]
    if context is not None:
        pairs = {
            **{k: v for k, v in pairs.items() if k == b"aws-crypto-public-key"},
            **{k.encode(): v.encode() for k, v in context.items()},
        }
    if key_arn is not None:
        provider_info = key_arn.encode()
    if encrypted_data_key is not None:
        edk = encrypted_data_key

    def field(raw: bytes) -> bytes:
        return struct.pack(">H", len(raw)) + raw

    aad_out = b""
    if pairs:
        aad_out = struct.pack(">H", len(pairs)) + b"".join(
            field(k) + field(v) for k, v in sorted(pairs.items())
        )
    return (
        fixed
        + field(aad_out)
        + struct.pack(">H", 1)
        + field(provider_id)
        + field(provider_info)
        + field(edk)
        + rest
    )


def original_query(message: bytes) -> str:
    """The query string of the original's callback URL around ``message``."""
    blob = "2-" + base64.urlsafe_b64encode(message).decode("ascii")
    return f"action=approve&type=success&data={blob.replace('=', '%3D')}"


@pytest.fixture
def kms_keys(aws_env: None) -> Iterator[tuple[Any, str, str]]:
    """KMS on moto: (client, the original stack's key ARN, another key's ARN)."""
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("kms", region_name=REGION)
        ours = client.create_key()["KeyMetadata"]["Arn"]
        theirs = client.create_key()["KeyMetadata"]["Arn"]
        yield client, ours, theirs


def original_handler(kms: Any, key_arn: str, sfn: FakeStepFunctions) -> CallbackHandler:
    """A handler that also opens the original's ``2-`` URLs under ``key_arn``."""
    return CallbackHandler(
        new_codec(),
        stepfunctions_client=sfn,
        original_kms_key_id=key_arn,
        original_kms_client=kms,
    )


def forged_under(kms_keys: tuple[Any, str, str], **changes: Any) -> bytes:
    """A message made under the other key, its data key then said to be under ours (offline)."""
    _, ours, theirs = kms_keys
    return forge_header(sdk_message(theirs), key_arn=ours, **changes)


# --- finding 1: JSONPath regexes run on RE2 ----------------------------------------------------


def _post_with_path(path: str) -> Any:
    return parse_action(
        {
            "name": "decide",
            "type": "post",
            "outcomes": [{"name": "picked", "type": "success", "schema": {}, "output_path": path}],
        }
    )


def test_finding_1_jsonpath_filter_regexes_never_reach_pythons_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 1: an `=~` filter on a 41-character hostile body answers, on RE2, never `re`."""
    hostile = "^(a+)+$"
    seen: list[str] = []
    real_search = re.search

    def spy(pattern: Any, string: Any, flags: int = 0) -> Any:
        if pattern == hostile:
            seen.append(string)
            return None  # what a backtracking engine would spend hours to say
        return real_search(pattern, string, flags)

    monkeypatch.setattr(re, "search", spy)
    codec = new_codec()
    sfn = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=sfn)
    url = mint(codec, _post_with_path(f'$[?(@ =~ "{hostile}")]'))
    response = post_json(handler, url, ["aaaa", "a" * 40 + "!", 7, None])
    assert response.status == 200, response.body
    assert seen == []
    assert [json.loads(params["output"]) for _, params in sfn.calls] == [["aaaa"]]


def test_finding_1_jsonpath_regexes_follow_re2_at_the_callback() -> None:
    r"""Finding 1: `=~` and `sub()` match as RE2 does (`\d` is ASCII), so RE2 is what runs."""
    codec = new_codec()
    sfn = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=sfn)
    for path in ('$[?(@ =~ "^\\\\d$")]', "$[*].`sub(/\\\\d/, X)`"):
        url = mint(codec, _post_with_path(path))
        # Python's re takes the Arabic-Indic digit for \d; RE2 does not.
        assert post_json(handler, url, ["\u0663", "3"]).status == 200
    assert [json.loads(params["output"]) for _, params in sfn.calls] == [["3"], ["X"]]


@pytest.mark.parametrize(
    "path",
    [
        '$[?(@ =~ "(a)\\\\1")]',
        '$[?(@.name =~ "(?=a)a")]',
        "$.note.`sub(/(a)\\\\1/, b)`",
        "$.note.`sub(/(?<!b)a/, c)`",
    ],
)
def test_finding_1_jsonpath_regexes_re2_cannot_run_are_refused_at_mint(path: str) -> None:
    """Finding 1: a JSONPath regex needing backtracking (backreference, lookaround) is refused."""
    with pytest.raises(InvalidJsonPath, match="linear time"):
        mint(new_codec(), _post_with_path(path))


def test_finding_1_working_regex_paths_keep_working() -> None:
    """Finding 1: the regexes users write (anchors, classes, flags, alternation) still select."""
    codec = new_codec()
    sfn = FakeStepFunctions()
    handler = CallbackHandler(codec, enable_post_actions=True, stepfunctions_client=sfn)
    body = [{"name": "Approved-by-Ben", "k": 1}, {"name": "rejected", "k": 2}]
    cases = {
        '$[?(@.name =~ "^approved")].k': [],
        '$[?(@.name =~ "(?i)^approved")].k': 1,
        # No '&&' here: jsonpath-ng on Python 3.10 (1.8) knows only '&', 1.16 deprecates it.
        '$[?(@.name =~ "Ben|Ann")].name': "Approved-by-Ben",
        "$[1].name.`sub(/^re(\\\\w+)$/, \\\\1)`": "jected",
    }
    for path in cases:
        url = mint(codec, _post_with_path(path))
        assert post_json(handler, url, body).status == 200
    outputs = [json.loads(params["output"]) for _, params in sfn.calls]
    assert outputs == [[], [1], ["Approved-by-Ben"], ["jected"]]


# --- finding 2: a refused 2- URL is one WARNING record of ours, nothing else -------------------


@pytest.fixture
def original_app(app_env: pytest.MonkeyPatch, moto_sfn: Any) -> Iterator[tuple[Any, str, str]]:
    """The ready app upgraded in place: KEY_ID is the original's key, ACCEPT_ORIGINAL_URLS on.

    Yields (KMS client, the original stack's key ARN, another key's ARN), on moto.
    """
    kms = boto3.client("kms", region_name=REGION)
    ours = kms.create_key()["KeyMetadata"]["Arn"]
    theirs = kms.create_key()["KeyMetadata"]["Arn"]
    app_env.delenv("SFN_CALLBACK_URLS_KEY")
    app_env.setenv("KEY_ID", ours)
    app_env.setenv("ACCEPT_ORIGINAL_URLS", "true")
    reset_app()
    yield kms, ours, theirs
    reset_app()


def _click_original(message: bytes) -> dict[str, Any]:
    url = f"{APP_BASE_URL}/respond?{original_query(message)}"
    return process_callback_handler(event_for(url, "apigw_v2"), None)


def test_finding_2_a_refused_2_url_logs_one_warning_of_ours(
    original_app: tuple[Any, str, str], root_at_info: Capture
) -> None:
    """Finding 2: forged `2-` URLs log one WARNING record of the app, no SDK record or traceback."""
    _, ours, theirs = original_app
    attacker_text = "INJECTED " * 450  # 4 KB: the whole URL stays under the query cap
    genuine = sdk_message(ours)
    forgeries = [
        # A data key made under another key, said to be under ours: KMS refuses it.
        forge_header(sdk_message(theirs), key_arn=ours),
        # The genuine data key with the attacker's text in the encryption context.
        forge_header(genuine, context={"note": attacker_text}),
        # A damaged data key, KMS refuses it.
        forge_header(genuine, encrypted_data_key=b"\x01" * 96),
    ]
    # Warm: the KMS client is built on the first click ("Found credentials", once a process).
    _click_original(sdk_message(theirs))
    for message in forgeries:
        root_at_info.records.clear()
        answer = _click_original(message)
        assert answer["statusCode"] == 400, answer
        assert answer_json(answer)["error"] == "InvalidPayload"
        shown = [(r.name, r.levelname, r.getMessage()[:120]) for r in root_at_info.records]
        assert len(root_at_info.records) == 1, shown
        (record,) = root_at_info.records
        assert (record.name, record.levelno) == (APP_LOGGER, logging.WARNING), shown
        assert record.exc_info is None
        assert getattr(record, "original_url", None) is True
        assert "INJECTED" not in record.getMessage()


def test_finding_2_the_sdk_still_logs_outside_our_decryptions(
    kms_keys: tuple[Any, str, str], root_at_info: Capture
) -> None:
    """Finding 2: only records logged while we decrypt are dropped; other SDK uses keep theirs."""
    _, ours, _ = kms_keys
    handler = original_handler(kms_keys[0], ours, FakeStepFunctions())
    forged = forge_header(sdk_message(ours), context={"note": "x"})
    assert handler.handle(CallbackRequest("GET", original_query(forged))).status == 400
    root_at_info.records.clear()
    sdk_message(ours)  # the SDK used directly, elsewhere in the process
    assert any(r.name.startswith("aws_encryption_sdk") for r in root_at_info.records)


# --- finding 3: a 2- URL is checked against the encryption context the original wrote ----------


def test_finding_3_a_message_under_another_context_is_refused_before_kms(
    kms_keys: tuple[Any, str, str],
) -> None:
    """Finding 3: an SDK message under the key but another context never completes, no Decrypt."""
    kms, ours, _ = kms_keys
    sfn = FakeStepFunctions()
    handler = original_handler(kms, ours, sfn)
    calls = KmsCalls(kms)
    for other in (
        sdk_message(ours, context={"app": "another-deployment"}),
        sdk_message(ours, signed=False),  # no context at all: a suite the original never used
    ):
        response = handler.handle(CallbackRequest("GET", original_query(other)))
        assert response.status == 400, response.body
        assert json.loads(response.body)["error"] == "InvalidPayload"
    assert sfn.calls == []
    assert calls.names == []
    # The context the original wrote (the SDK's signing key only) opens and completes.
    genuine = handler.handle(CallbackRequest("GET", original_query(sdk_message(ours))))
    assert genuine.status == 200, genuine.body
    assert [kind for kind, _ in sfn.calls] == ["success"]


# --- finding 4: a data key KMS could never have written is a 400, not a 503 ---------------------


@pytest.mark.parametrize("size", [0, 6145])
def test_finding_4_a_data_key_of_impossible_size_is_400_without_kms(
    kms_keys: tuple[Any, str, str], size: int
) -> None:
    """Finding 4: an empty or over-6,144-byte encrypted data key is InvalidPayload, no KMS call."""
    kms, ours, _ = kms_keys
    handler = original_handler(kms, ours, FakeStepFunctions())
    calls = KmsCalls(kms)
    forged = forge_header(sdk_message(ours), encrypted_data_key=b"\x00" * size)
    response = handler.handle(CallbackRequest("GET", original_query(forged)))
    assert (response.status, json.loads(response.body)["error"]) == (400, "InvalidPayload")
    assert calls.names == []


def test_finding_4_kms_validation_exception_is_the_urls_fault(
    kms_keys: tuple[Any, str, str],
) -> None:
    """Finding 4: KMS answering ValidationException is InvalidPayload (400), at the client seam."""
    _, ours, _ = kms_keys
    stubbed = boto3.client("kms", region_name=REGION)
    handler = original_handler(stubbed, ours, FakeStepFunctions())
    with Stubber(stubbed) as stubber:
        stubber.add_client_error("decrypt", service_error_code="ValidationException")
        response = handler.handle(CallbackRequest("GET", original_query(sdk_message(ours))))
    assert (response.status, json.loads(response.body)["error"]) == (400, "InvalidPayload")


# --- finding 5: refused 2- URLs are remembered for 60 s ----------------------------------------


def test_finding_5_a_replayed_forged_2_url_costs_one_decrypt(
    kms_keys: tuple[Any, str, str],
) -> None:
    """Finding 5: 20 replays of one forged `2-` URL cost one KMS Decrypt; the genuine one opens."""
    kms, ours, _ = kms_keys
    sfn = FakeStepFunctions()
    handler = original_handler(kms, ours, sfn)
    forged = forged_under(kms_keys)
    genuine = sdk_message(ours)
    calls = KmsCalls(kms)
    for _ in range(20):
        response = handler.handle(CallbackRequest("GET", original_query(forged)))
        assert response.status == 400
    assert calls.names == ["Decrypt"]
    assert handler.handle(CallbackRequest("GET", original_query(genuine))).status == 200
    assert calls.names == ["Decrypt", "Decrypt"]
    assert [kind for kind, _ in sfn.calls] == ["success"]


# --- finding 6: lone surrogates anywhere in a Lambda event are a 400 ---------------------------

LONE = "\ud800"


DECIDE = {
    "name": "decide",
    "type": "post",
    "outcomes": [{"name": "any", "type": "success", "schema": {}, "output_body": True}],
}


def _minted_urls() -> tuple[str, str]:
    """A create-URLs call on the ready app: the approve and the decide (POST) URLs."""
    minted = create_urls_handler({"token": TOKEN, "actions": [APPROVE, DECIDE]}, None)
    return minted["urls"]["approve"], minted["urls"]["decide"]


def _callback_events(url: str, post_url: str) -> dict[str, dict[str, Any]]:
    """Events to the callback with a lone surrogate in one place each (bodies: to a POST)."""
    events: dict[str, dict[str, Any]] = {}
    rest = event_for(url + "&note=x", "apigw_v1")
    rest["queryStringParameters"][f"note{LONE}"] = "x"
    rest["multiValueQueryStringParameters"][f"note{LONE}"] = ["x"]
    events["REST query name"] = rest
    rest = event_for(url + "&note=x", "apigw_v1")
    rest["queryStringParameters"]["note"] = f"a{LONE}"
    rest["multiValueQueryStringParameters"]["note"] = [f"a{LONE}"]
    events["REST query value"] = rest
    rest = event_for(url + "&note=x", "apigw_v1")
    del rest["multiValueQueryStringParameters"]
    rest["queryStringParameters"]["note"] = f"a{LONE}"
    events["REST single-value query"] = rest
    for source in ("apigw_v1", "apigw_v2", "function_url", "alb"):
        json_type = {"content-type": "application/json"}
        event = event_for(post_url, source, method="POST", headers=json_type)
        event["body"] = f'"ok {LONE}"'
        event["isBase64Encoded"] = False
        events[f"{source} body"] = event
    v2 = event_for(url, "apigw_v2")
    del v2["rawQueryString"]
    v2["queryStringParameters"] = {**dict(parse_qsl(query_of(url))), "note": LONE}
    events["HTTP API query without rawQueryString"] = v2
    v2 = event_for(url, "apigw_v2")
    v2["rawQueryString"] += f"&note={LONE}"
    events["HTTP API rawQueryString"] = v2
    alb = event_for(url, "alb")
    alb["queryStringParameters"]["note"] = LONE
    events["ALB query"] = alb
    return events


def _create_events() -> dict[str, dict[str, Any]]:
    body = json.dumps({"token": TOKEN, "actions": [APPROVE]})[:-1] + f', "n": "{LONE}"}}'
    events = {}
    for source in ("apigw_v1", "apigw_v2", "function_url"):
        event = create_event("{}", source)
        event["body"] = body  # as the Lambda runtime decodes a "\ud800" escape in the event
        events[f"create-URLs {source} body"] = event
    return events


def _assert_400_answer(where: str, answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 400, (where, answer)
    assert_security_headers(answer["headers"])
    # The Lambda runtime serializes the answer: it must be encodable.
    json.dumps(answer, ensure_ascii=False).encode("utf-8")


def test_finding_6_lone_surrogates_in_lambda_events_are_400(app_env: pytest.MonkeyPatch) -> None:
    """Finding 6: a lone surrogate in a query name/value or body answers 400 with our headers."""
    app_env.setenv("ENABLE_POST_ACTIONS", "true")
    reset_app()
    for where, event in _callback_events(*_minted_urls()).items():
        _assert_400_answer(where, process_callback_handler(event, None))
    for where, event in _create_events().items():
        _assert_400_answer(where, create_urls_handler(event, None))


def test_finding_6_direct_create_urls_with_lone_surrogates_is_an_error_answer(
    app_env: pytest.MonkeyPatch,
) -> None:
    """Finding 6: direct create-URLs invocations with lone surrogates answer the error JSON."""
    requests: list[Any] = [
        {"token": TOKEN, "actions": [APPROVE], LONE: 1},
        {"token": TOKEN + LONE, "actions": [APPROVE]},
        {"token": TOKEN, "actions": [{**APPROVE, "name": LONE}]},
        {"token": TOKEN, "actions": [{**APPROVE, "output": {LONE: LONE}}]},
        {"token": TOKEN, "actions": [APPROVE], "base_url": f"https://x/{LONE}"},
    ]
    for request in requests:
        answer = create_urls_handler(request, None)
        assert answer.get("error", "").startswith("Invalid"), answer
        json.dumps(answer, ensure_ascii=False).encode("utf-8")


# --- finding 7: a query string starting with / (or ? # //) is not a URL -------------------------


@pytest.mark.parametrize("prefix", ["/", "//", "?", "#", "//evil.example/respond"])
def test_finding_7_a_query_starting_like_a_url_keeps_its_duplicate_data(prefix: str) -> None:
    """Finding 7: `/?<query>#&data=<other>` over wsgiref holds two `data`: refused, nothing done."""
    codec = new_codec()
    sfn = FakeStepFunctions()
    handler = CallbackHandler(codec, stepfunctions_client=sfn)
    first = mint(codec, SuccessAction(name="approve", output="first"))
    other = blob_of(mint(codec, SuccessAction(name="reject", output="other")))
    query = f"{prefix}?{query_of(first)}#&data={other}"
    # What any ordinary parser reads in the query: two data parameters.
    assert [name for name, _ in parse_qsl(query) if name == "data"] == ["data"] * 2
    from test_security_review import raw_request  # the same raw client as the first review's

    with serve_wsgi(make_wsgi_app(handler)) as address:
        answer = raw_request(address, "GET", f"/prod/respond?{query}")
    assert answer.status == 400, answer.body
    assert json.loads(answer.body)["error"] == "InvalidPayload"
    assert sfn.calls == []


# --- finding 8: the template's AcceptOriginalUrls Decrypt requires the SDK's context key --------


def _iam_allows(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """An IAM ``Condition`` block for a KMS Decrypt under ``context``, as AWS documents it.

    ``kms:EncryptionContextKeys`` is multivalued (absent when the context is empty);
    ``ForAllValues`` is true for an absent key, ``ForAnyValue`` false; ``Null: "false"``
    requires the key to be present.
    """
    request: dict[str, Any] = {f"kms:EncryptionContext:{k}": v for k, v in context.items()}
    if context:
        request["kms:EncryptionContextKeys"] = sorted(context)
    for operator, tests in condition.items():
        for key, expected in tests.items():
            wanted = expected if isinstance(expected, list) else [expected]
            value = request.get(key)
            values = value if isinstance(value, list) else [] if value is None else [value]
            if operator == "Null":
                ok = (value is None) == (str(wanted[0]).lower() == "true")
            elif operator == "ForAllValues:StringEquals":
                ok = all(item in wanted for item in values)
            elif operator == "ForAnyValue:StringEquals":
                ok = any(item in wanted for item in values)
            elif operator == "StringEquals":
                ok = value is not None and not isinstance(value, list) and value in wanted
            else:
                raise AssertionError(f"operator {operator} not modelled")
            if not ok:
                return False
    return True


def test_finding_8_accept_original_urls_decrypts_only_the_sdks_context() -> None:
    """Finding 8: the AcceptOriginalUrls Decrypt needs exactly the SDK's context key, not none."""
    from test_examples import EXAMPLES, read_template  # how the template tests read it

    template = read_template(EXAMPLES / "template.yaml")
    policies = template["Resources"]["ProcessCallbackFunction"]["Properties"]["Policies"]
    (statement,) = [s["Fn::If"][1] for p in policies for s in p["Statement"] if "Fn::If" in s]
    assert statement["Action"] == "kms:Decrypt"
    condition = statement["Condition"]
    assert _iam_allows(condition, {"aws-crypto-public-key": "A1b2"})
    assert not _iam_allows(condition, {})  # context-free ciphertexts under the key
    assert not _iam_allows(condition, {"aws-crypto-public-key": "A1b2", "app": "other"})
    assert not _iam_allows(condition, {"sfn-callback-urls:purpose": "prod"})


# --- finding 9: the audit log's method is printable ASCII ----------------------------------------


@pytest.mark.parametrize("method", ["P\u041eST", "po\u017ft", "G\u0395T", "GET\u200b", "P\nOST"])
def test_finding_9_look_alike_methods_never_reach_the_log_or_count_as_post(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 9: a non-ASCII method is logged as "?" and is never taken for GET or POST (405)."""
    codec = new_codec()
    sfn = FakeStepFunctions()
    handler = CallbackHandler(codec, stepfunctions_client=sfn)
    url = mint(codec, SuccessAction(name="approve", output=None))
    with caplog.at_level(logging.INFO, logger="sfn_callback_urls.handler"):
        response = handler.handle(CallbackRequest(method, query_of(url)))
    assert response.status == 405
    assert sfn.calls == []
    (record,) = [r for r in caplog.records if r.name == "sfn_callback_urls.handler"]
    logged = record.method  # type: ignore[attr-defined]
    assert logged == "?"


# --- finding 10: create-URLs messages show field names printable --------------------------------


def test_finding_10_unknown_field_names_cannot_forge_log_lines(
    app_env: pytest.MonkeyPatch, root_at_info: Capture
) -> None:
    """Finding 10: an unknown key with CR/LF, ESC or a bidi override is shown escaped."""
    forged = "x\r\nINFO sfn_callback_urls.aws_lambda approved \x1b[32m\u202e"
    request = {"token": TOKEN, "actions": [APPROVE], forged: 1}
    answers = [
        create_urls_handler(request, None),
        answer_json(create_urls_handler(create_event(json.dumps(request)), None)),
    ]
    for answer in answers:
        assert answer["error"] == "InvalidJSON", answer  # the original's code for it
        message = answer["message"]
        assert message.isprintable(), message
        assert "x\\r\\nINFO sfn_callback_urls.aws_lambda approved \\x1b[32m\\u202e" in message
    logged = [r.getMessage() for r in root_at_info.records]
    assert logged, "the refusals were not logged"
    for line in logged:
        assert line.isprintable(), line
