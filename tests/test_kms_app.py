"""The KMS promises of the docs, checked where a user meets them: the ready Lambda handlers.

``create_urls_handler`` and ``process_callback_handler`` with API Gateway events, configured by
the environment as ``docs/deploy.md`` says, completing real moto Step Functions executions.
The app builds its own KMS (and SSM) clients, so the calls are counted at botocore's one seam
that every client shares (`AwsCalls`), not on a client the test holds.

- ``docs/deploy.md`` (Opening the original app's URLs) and ``CHANGELOG.md``: with
  ``ACCEPT_ORIGINAL_URLS``, ``KEY_ID`` may be the original key's id or an alias, resolved with
  one ``DescribeKey`` per process;
- ``README.md`` (Keys), ``docs/kms.md`` (the table) and ``docs/deploy.md`` (``KEY_ID``,
  ``SFN_CALLBACK_URLS_WRAPPED_KEY``): KMS is called once per data key, never per token; a
  wrapped keyring costs one ``Decrypt`` per cold start;
- ``SECURITY.md`` (Denial of wallet): unknown key ids and wrong-size key headers cost no KMS
  call; a forged header costs one, and its replays none.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from conftest import MotoClients  # tests/ is on sys.path
from helpers import (  # tests/ is on sys.path
    APP_BASE_URL,
    REGION,
    answer_json,
    b64url,
    blob_of,
    blog_request,
    create_event,
    event_for,
    key_header_span,
    unb64url,
)
from original_format import mint_original_url
from sfn_callback_urls._time import utcnow
from sfn_callback_urls.aws_lambda import create_urls_handler, get_app, process_callback_handler
from sfn_callback_urls.aws_lambda import reset_app as reset_the_app
from sfn_callback_urls.errors import InvalidPayload
from sfn_callback_urls.keys import LocalKey, wrap_keyring
from sfn_callback_urls.testing import ApprovalMachine

#: How many create-URLs requests and callbacks a warm function serves in the count tests.
REQUESTS = 100
#: The message of every refusal before authentication (no oracle).
PRE_AUTH_MESSAGE = InvalidPayload().message
APPROVE = {"name": "approve", "type": "success", "output": {"approved_by": "Ben"}}
REJECT = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"}


class AwsCalls:
    """Every AWS API call any botocore client of this process makes, by service and operation.

    Counted when the call is made (once per call, whatever the retries), so a call that
    botocore refuses before sending counts too: the count is an upper bound on what AWS saw.
    """

    def __init__(self) -> None:
        self._calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, service: str, operation: str) -> None:
        """Note one call."""
        with self._lock:
            self._calls.append((service, operation))

    def counts(self, service: str = "kms") -> Counter[str]:
        """The calls to ``service`` so far, by operation."""
        with self._lock:
            return Counter(operation for name, operation in self._calls if name == service)

    def reset(self) -> None:
        """Forget the calls so far."""
        with self._lock:
            self._calls.clear()


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> AwsCalls:
    """Count the API calls of every botocore client, the app's own included."""
    calls = AwsCalls()
    real_call = BaseClient._make_api_call

    def counted(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.record(client.meta.service_model.service_name, operation_name)
        return real_call(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


@pytest.fixture
def kms_key(moto_sfn: MotoClients) -> dict[str, Any]:
    """A symmetric KMS key in the account of the Step Functions executions: its metadata."""
    return dict(boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"])


def app_configured(app_env: pytest.MonkeyPatch, **variables: str) -> None:
    """Replace app_env's local key with ``variables`` and start the app cold."""
    app_env.delenv("SFN_CALLBACK_URLS_KEY")
    for name, value in variables.items():
        app_env.setenv(name, value)
    reset_the_app()


def click(url: str, source: str = "apigw_v1") -> dict[str, Any]:
    """``process_callback_handler`` for a GET of ``url`` from API Gateway (REST or HTTP API)."""
    return process_callback_handler(event_for(url, source), None)


def refused(answer: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """Assert an error answer's status and code; return its body."""
    body = answer_json(answer)
    assert (answer["statusCode"], body["error"]) == (status, code), body
    return body


def with_blob(url: str, blob: str) -> str:
    """``url`` with its ``data`` replaced by ``blob``."""
    return url.replace(blob_of(url), blob)


# --- 1. the original app's URLs with KEY_ID as its key id or an alias ---------------------------


def original_callback_url(token: str, action: dict[str, Any], key_id: str) -> str:
    """A ``2-`` callback URL as the original app minted it under its ``KEY_ID``."""
    now = utcnow().replace(microsecond=0)
    return mint_original_url(
        APP_BASE_URL,
        token,
        action,
        kms_key_id=key_id,
        iat=now - timedelta(minutes=5),
        exp=now + timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("configured_as", "describe_keys"), [("key id", 1), ("alias", 1), ("key ARN", 0)]
)
def test_original_urls_under_a_key_id_or_alias_cost_one_describe_key(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    kms_key: dict[str, Any],
    aws_calls: AwsCalls,
    configured_as: str,
    describe_keys: int,
) -> None:
    """Original URLs complete with KEY_ID a key id or alias, after one DescribeKey (ARN: none)."""
    kms = boto3.client("kms", region_name=REGION)
    key_id = {"key id": kms_key["KeyId"], "key ARN": kms_key["Arn"]}.get(
        configured_as, "alias/original-callbacks"
    )
    if configured_as == "alias":
        kms.create_alias(AliasName=key_id, TargetKeyId=kms_key["KeyId"])
    app_configured(app_env, KEY_ID=key_id, ACCEPT_ORIGINAL_URLS="true")
    urls = {}
    for action in (APPROVE, REJECT):
        execution_arn = approval_machine.start("Ben")
        token, _ = approval_machine.wait_for_token()
        urls[execution_arn] = original_callback_url(token, action, key_id)
    aws_calls.reset()  # minting the original URLs called KMS too
    for url in urls.values():
        assert blob_of(url).startswith("2-")
        answer = click(url)
        assert answer["statusCode"] == 200, answer_json(answer)
    outputs = [
        json.loads(approval_machine.wait_for_status(arn)["output"])["output"] for arn in urls
    ]
    assert outputs == [APPROVE["output"], {"Error": "rejected", "Cause": None}]  # moto drops Cause
    # One DescribeKey for the process; one Decrypt per original URL (each has its own data key).
    expected = Counter({"DescribeKey": describe_keys, "Decrypt": len(urls)})
    assert aws_calls.counts() == +expected


# --- 2. once per data key (or per cold start), never per token ----------------------------------


def configure_kms_app(app_env: pytest.MonkeyPatch, kms_key: dict[str, Any], how: str) -> None:
    """The app keyed as ``how`` says, by the variables of docs/deploy.md, cold."""
    if how == "KEY_ID":
        app_configured(app_env, KEY_ID=kms_key["Arn"])
        return
    wrapped = wrap_keyring(
        LocalKey.generate(), kms_key["Arn"], client=boto3.client("kms", region_name=REGION)
    )
    if how == "SFN_CALLBACK_URLS_WRAPPED_KEY":
        app_configured(app_env, SFN_CALLBACK_URLS_WRAPPED_KEY=wrapped)
    else:  # the wrapped keyring in an SSM parameter
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/approvals/keyring", Value=wrapped, Type="SecureString"
        )
        app_configured(app_env, SFN_CALLBACK_URLS_PARAMETER="/approvals/keyring")


#: What each KMS configuration may call, per docs/kms.md's table and docs/deploy.md: (KMS calls
#: per cold start, KMS calls of REQUESTS create-URLs requests, of REQUESTS callbacks).
KMS_PROMISES = {
    # "0 (lazy)" per cold start; "1 GenerateDataKey (minter), 1 Decrypt per handler process".
    "KEY_ID": (Counter(), Counter({"GenerateDataKey": 1}), Counter({"Decrypt": 1})),
    # "1 Decrypt" per cold start ("decrypted once per process"), then none.
    "SFN_CALLBACK_URLS_WRAPPED_KEY": (Counter({"Decrypt": 1}), Counter(), Counter()),
    # The same keyring in an SSM parameter: "a Lambda cold start pays one Decrypt".
    "SFN_CALLBACK_URLS_PARAMETER": (Counter({"Decrypt": 1}), Counter(), Counter()),
}


@pytest.mark.parametrize("how", list(KMS_PROMISES))
def test_a_hundred_urls_and_callbacks_call_kms_once_per_data_key_never_per_token(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    kms_key: dict[str, Any],
    aws_calls: AwsCalls,
    how: str,
) -> None:
    """A cold start, 100 mints and 100 callbacks make exactly the KMS calls docs/kms.md lists."""
    on_cold_start, on_minting, on_callbacks = KMS_PROMISES[how]
    tokens: dict[str, str] = {}
    executions = {f"user{i}": approval_machine.start(f"user{i}") for i in range(REQUESTS)}
    for _ in executions:
        token, message = approval_machine.wait_for_token()
        tokens[message["name_in_input"]] = token
    configure_kms_app(app_env, kms_key, how)
    aws_calls.reset()

    get_app()  # the cold start: the first invocation reads the environment
    assert aws_calls.counts() == on_cold_start
    ssm_reads = Counter({"GetParameter": 1}) if how == "SFN_CALLBACK_URLS_PARAMETER" else Counter()
    assert aws_calls.counts("ssm") == ssm_reads
    aws_calls.reset()

    approve_urls = {}
    for name, token in tokens.items():
        answer = create_urls_handler(create_event(json.dumps(blog_request(token))), None)
        assert answer["statusCode"] == 200, answer_json(answer)
        approve_urls[name] = answer_json(answer)["urls"]["approve"]
    assert aws_calls.counts() == on_minting
    aws_calls.reset()

    for i, url in enumerate(approve_urls.values()):
        answer = click(url, ("apigw_v1", "apigw_v2")[i % 2])
        assert answer["statusCode"] == 200, answer_json(answer)
    assert aws_calls.counts() == on_callbacks
    assert aws_calls.counts("ssm") == Counter()  # the keyring is read once per cold start
    for name, execution_arn in executions.items():
        execution = approval_machine.wait_for_status(execution_arn)
        assert execution["status"] == "SUCCEEDED", name


# --- 3. denial of wallet: forged key ids and key headers ----------------------------------------


def forged_blobs(blob: str) -> dict[str, str]:
    """Edits of a genuine KMS envelope blob that must be refused before any KMS call."""
    raw = unb64url(blob)
    kid_end = 2 + raw[1]
    kid = raw[2:kid_end]
    kh_start, kh_end = key_header_span(blob)
    assert kh_end - kh_start > 0  # a KMS-encrypted data key rides in the blob
    other_kid = bytes(byte ^ 0xFF for byte in kid)
    return {
        "unknown key id": b64url(raw[:2] + other_kid + raw[kid_end:]),
        "unknown longer key id": b64url(
            bytes((raw[0], len(kid) + 4)) + kid + b"\x00" * 4 + raw[kid_end:]
        ),
        "empty key header": b64url(raw[:kid_end] + b"\x00" + raw[kh_end:]),
        "key header longer than the blob": b64url(raw[:kid_end] + b"\xff" + raw[kh_start:kh_end]),
    }


def test_unknown_key_ids_and_wrong_size_key_headers_cost_no_kms_call(
    app_env: pytest.MonkeyPatch,
    approval_machine: ApprovalMachine,
    kms_key: dict[str, Any],
    aws_calls: AwsCalls,
    sfn_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """With KEY_ID, unknown key ids and wrong-size key headers are 400s that cost no KMS call."""
    app_configured(app_env, KEY_ID=kms_key["Arn"])
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    created = create_urls_handler(create_event(json.dumps(blog_request(token))), None)
    approve = answer_json(created)["urls"]["approve"]
    aws_calls.reset()
    for what, blob in forged_blobs(blob_of(approve)).items():
        for source in ("apigw_v1", "apigw_v2"):
            body = refused(click(with_blob(approve, blob), source), 400, "InvalidPayload")
            assert body["message"] == PRE_AUTH_MESSAGE, what
        assert aws_calls.counts() == Counter(), what
    assert [name for name, _ in sfn_calls if name.startswith("SendTask")] == []
    # The genuine URL, from the same cold handler, is what costs a Decrypt.
    assert click(approve)["statusCode"] == 200
    assert aws_calls.counts() == Counter({"Decrypt": 1})
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


@pytest.mark.parametrize("forgery", ["one byte", "one byte changed"])
def test_a_forged_key_header_costs_one_decrypt_and_its_replays_none(
    app_env: pytest.MonkeyPatch,
    kms_key: dict[str, Any],
    aws_calls: AwsCalls,
    forgery: str,
) -> None:
    """With KEY_ID, a forged non-empty key header costs one Decrypt; replaying it costs none."""
    app_configured(app_env, KEY_ID=kms_key["Arn"])
    created = create_urls_handler(create_event(json.dumps(blog_request("t" * 40))), None)
    approve = answer_json(created)["urls"]["approve"]
    raw = unb64url(blob_of(approve))
    kid_end = 2 + raw[1]
    kh_start, kh_end = key_header_span(blob_of(approve))
    # moto answers AccessDenied (a KMS failure, never remembered) for random headers of 64 bytes
    # or more: they parse as ciphertexts of an unknown key. AWS answers InvalidCiphertext.
    if forgery == "one byte":
        header = b"\x01"
    else:
        header = raw[kh_start : kh_end - 1] + bytes((raw[kh_end - 1] ^ 1,))
    forged = b64url(raw[:kid_end] + bytes((len(header),)) + header + raw[kh_end:])
    aws_calls.reset()
    for _ in range(5):
        body = refused(click(with_blob(approve, forged)), 400, "InvalidPayload")
        assert body["message"] == PRE_AUTH_MESSAGE
    assert aws_calls.counts() == Counter({"Decrypt": 1})
