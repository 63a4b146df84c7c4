"""OriginalUrlOpener: the original app's ``2-`` URLs, minted with aws-encryption-sdk on moto KMS."""

from __future__ import annotations

import base64
import gc
import json
import logging
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from helpers import REGION, KmsCalls, blob_of, synthetic_token  # tests/ is on sys.path
from original_format import (  # tests/ is on sys.path
    mint_original_blob,
    mint_original_url,
    original_payload,
)
from sfn_callback_urls import (
    Claims,
    Codec,
    FailureAction,
    FailureOutcome,
    HeartbeatAction,
    HeartbeatOutcome,
    LocalKey,
    PostAction,
    ResponseSpec,
    SuccessAction,
    SuccessOutcome,
)
from sfn_callback_urls._original import (
    OriginalUrlOpener,
    is_original_blob,
)
from sfn_callback_urls.errors import (
    ConfigurationError,
    ExpiredPayload,
    InvalidPayload,
    KeyUnavailable,
    PayloadError,
    PayloadTooLarge,
)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
TOKEN = synthetic_token()
TID = "9d379e7c96464029b6fdef643cdcf420"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
DRAFT_7 = "http://json-schema.org/draft-07/schema#"
PRE_AUTH_MESSAGE = InvalidPayload().message


def mint(
    action: dict[str, Any],
    key_id: str | None,
    *,
    exp: datetime | None = NOW + timedelta(days=7),
    param: bool = False,
    suite: Any = "sdk1",
) -> str:
    """The ``data`` of an original URL for ``action``."""
    url = mint_original_url(
        BASE,
        TOKEN,
        action,
        kms_key_id=key_id,
        iat=NOW - timedelta(hours=1),
        exp=exp,
        param=param,
        tid=TID,
        iss="arn:aws:lambda:us-east-1:123456789012:function:CreateUrls",
        suite=suite,
    )
    return blob_of(url)


def refused_before_auth(opener: OriginalUrlOpener, blob: str) -> InvalidPayload:
    """Open ``blob``, expecting the one pre-authentication InvalidPayload."""
    with pytest.raises(InvalidPayload) as caught:
        opener.open(blob, now=NOW)
    assert type(caught.value) is InvalidPayload
    assert caught.value.message == PRE_AUTH_MESSAGE
    return caught.value


# --- what opens, and to exactly what ----------------------------------------------------------


def test_success_url_opens_to_exact_claims(kms: KMSClient, symmetric_key: str) -> None:
    """A success URL gives the token, transaction id, times, flags and action it was minted with."""
    data = mint(
        {"name": "approve", "type": "success", "output": {"ok": True, "n": [1, 2.5, None]}},
        symmetric_key,
        param=True,
    )
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(data, now=NOW)
    assert isinstance(claims, Claims)
    assert claims.token == TOKEN
    assert claims.transaction_id == TID  # the original's 32 hex digits, kept as they were
    assert claims.issued_at == NOW - timedelta(hours=1)
    assert claims.expires_at == NOW + timedelta(days=7)
    assert claims.expires_at.tzinfo is timezone.utc
    assert claims.output_parameters is True
    assert claims.action == SuccessAction(name="approve", output={"ok": True, "n": [1, 2.5, None]})


def test_failure_url_opens_to_exact_claims(kms: KMSClient, symmetric_key: str) -> None:
    """A failure URL keeps its error, cause and response; output parameters stay off."""
    action = {
        "name": "reject",
        "type": "failure",
        "error": "Rejected",
        "cause": "Ben said no: $reason",
        "response": {"html": "<p>Rejected</p>", "text": "Rejected"},
    }
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(mint(action, symmetric_key), now=NOW)
    assert claims.output_parameters is False
    assert claims.action == FailureAction(
        name="reject",
        error="Rejected",
        cause="Ben said no: $reason",
        response=ResponseSpec(html="<p>Rejected</p>", text="Rejected"),
    )


def test_heartbeat_url_opens_to_exact_claims(kms: KMSClient, symmetric_key: str) -> None:
    """A heartbeat URL opens to a heartbeat action with its custom JSON response."""
    action = {"name": "beat", "type": "heartbeat", "response": {"json": {"ekg": "thump"}}}
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(mint(action, symmetric_key), now=NOW)
    assert claims.action == HeartbeatAction(
        name="beat", response=ResponseSpec(json={"ekg": "thump"})
    )


def test_post_url_opens_to_exact_outcomes(kms: KMSClient, symmetric_key: str) -> None:
    """Every kind of POST outcome maps field for field; schemas without a dialect get draft 7."""
    action = {
        "name": "form",
        "type": "post",
        "response": {"text": "thanks"},
        "outcomes": [
            {
                "name": "whole",
                "type": "success",
                "schema": {"required": ["all"]},
                "output_body": True,
            },
            {
                "name": "picked",
                "type": "success",
                "schema": {"type": "object", "required": ["ok"]},
                "output_path": "$.ok",
            },
            {
                "name": "fixed",
                "type": "success",
                "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema"},
                "output": {"fixed": 1},
                "response": {},
            },
            {
                "name": "no",
                "type": "failure",
                "schema": {"required": ["why"]},
                "error_path": "$.why",
                "cause": "refused",
            },
            {"name": "later", "type": "heartbeat", "schema": {}},
        ],
    }
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(mint(action, symmetric_key), now=NOW)
    assert claims.action == PostAction(
        name="form",
        response=ResponseSpec(text="thanks"),
        outcomes=[
            SuccessOutcome(
                name="whole", schema={"$schema": DRAFT_7, "required": ["all"]}, output_body=True
            ),
            SuccessOutcome(
                name="picked",
                schema={"$schema": DRAFT_7, "type": "object", "required": ["ok"]},
                output_path="$.ok",
            ),
            SuccessOutcome(
                name="fixed",
                schema={"$schema": "https://json-schema.org/draft/2020-12/schema"},
                output={"fixed": 1},
                response=ResponseSpec(),  # {} replaced the action's response in the original
            ),
            FailureOutcome(
                name="no",
                schema={"$schema": DRAFT_7, "required": ["why"]},
                error_path="$.why",
                cause="refused",
            ),
            HeartbeatOutcome(name="later", schema={"$schema": DRAFT_7}),
        ],
    )


def test_fields_the_original_ignored_are_dropped(kms: KMSClient, symmetric_key: str) -> None:
    """Unknown fields in actions, outcomes and responses are dropped, not refused, nor obeyed."""
    action = {
        "name": "approve",
        "type": "success",
        "output": {},
        "confirm": True,  # not a field of the original: must not switch on our confirm page
        "note": "for humans",
        "response": {"text": "ok", "status": 201},
    }
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(mint(action, symmetric_key), now=NOW)
    assert claims.action == SuccessAction(
        name="approve", output={}, response=ResponseSpec(text="ok")
    )
    assert claims.action.confirm is None


def test_redirect_wins_over_bodies(kms: KMSClient, symmetric_key: str) -> None:
    """A response with redirect and json/html/text opens as the redirect alone."""
    response = {"redirect": "https://example.com/done", "json": {"a": 1}, "html": "<p>x</p>"}
    action = {"name": "approve", "type": "success", "output": 1, "response": response}
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(mint(action, symmetric_key), now=NOW)
    assert claims.action.response == ResponseSpec(redirect="https://example.com/done")


def test_key_committing_messages_open_too(kms: KMSClient, symmetric_key: str) -> None:
    """Messages in aws-encryption-sdk 2.x's default (committing) suite open as well."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key, suite="sdk2")
    assert OriginalUrlOpener(symmetric_key, client=kms).open(data, now=NOW).action.name == "go"


def test_url_without_expiry_never_expires(kms: KMSClient, symmetric_key: str) -> None:
    """A URL minted without ``expiration`` has no ``exp`` and opens years later."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key, exp=None)
    claims = OriginalUrlOpener(symmetric_key, client=kms).open(data, now=NOW + timedelta(days=3650))
    assert claims.expires_at is None


def test_padding_is_optional_but_the_bits_are_canonical(kms: KMSClient, symmetric_key: str) -> None:
    """The padded form the original wrote and the unpadded one open; no other spelling does."""
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    body = data[2:].rstrip("=")
    assert opener.open("2-" + body, now=NOW).action.name == "go"
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if len(raw) % 3:  # the last character carries unused bits: flipping one is a new spelling
        last = body[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        twin = alphabet[alphabet.index(last) ^ 1]
        refused_before_auth(opener, "2-" + body[:-1] + twin)
    refused_before_auth(opener, data + "=")
    refused_before_auth(opener, "2-" + body.replace("-", "+").replace("_", "/"))


# --- key resolution ---------------------------------------------------------------------------


def test_key_id_and_alias_resolve_once_to_the_arn(kms: KMSClient) -> None:
    """KEY_ID as the original's stack set it (a key id) or an alias works, via one DescribeKey."""
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/sfn-callback-urls", TargetKeyId=key["KeyId"])
    data = mint({"name": "go", "type": "heartbeat"}, key["KeyId"])  # the message names the ARN
    counter = KmsCalls(kms)
    for key_id in (key["KeyId"], "alias/sfn-callback-urls"):
        opener = OriginalUrlOpener(key_id, client=kms)
        counter.reset()
        opener.open(data, now=NOW)
        opener.open(data, now=NOW)
        assert counter.names.count("DescribeKey") == 1


def test_an_arn_needs_no_describe_key(kms: KMSClient, symmetric_key: str) -> None:
    """With the key ARN configured, opening costs exactly one KMS Decrypt and nothing else."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    counter = KmsCalls(kms)
    opener.open(data, now=NOW)
    assert counter.names == ["Decrypt"]


def test_without_a_client_one_is_built_on_first_use(kms: KMSClient, symmetric_key: str) -> None:
    """No client given: the opener builds its own (once) and opens; this used to deadlock."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    opener = OriginalUrlOpener(symmetric_key)
    assert opener.open(data, now=NOW).action.name == "go"
    client = opener.client
    assert opener.open(data, now=NOW).action.name == "go"
    assert opener.client is client


# --- expiry -----------------------------------------------------------------------------------


def test_expired_url_is_refused_with_its_expiry(kms: KMSClient, symmetric_key: str) -> None:
    """Past ``exp`` plus the leeway the URL is ExpiredPayload, carrying when it expired."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key, exp=NOW - timedelta(minutes=5))
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    with pytest.raises(ExpiredPayload) as caught:
        opener.open(data, now=NOW)
    assert caught.value.expired_at == NOW - timedelta(minutes=5)
    assert caught.value.status == 400
    assert opener.open(data, now=NOW, check_expiry=False).expires_at == NOW - timedelta(minutes=5)


def test_expiry_keeps_our_leeway(kms: KMSClient, symmetric_key: str) -> None:
    """Within the 30 s leeway an expired URL still opens; one second past it, it does not."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key, exp=NOW)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    assert opener.open(data, now=NOW + timedelta(seconds=30)).expires_at == NOW
    with pytest.raises(ExpiredPayload):
        opener.open(data, now=NOW + timedelta(seconds=31))


def test_naive_now_is_a_programming_error(kms: KMSClient, symmetric_key: str) -> None:
    """``now`` must be timezone-aware, like everywhere else in the library."""
    with pytest.raises(ValueError, match="timezone-aware"):
        OriginalUrlOpener(symmetric_key, client=kms).open("2-AAAA", now=datetime(2026, 1, 1))


# --- what never opens -------------------------------------------------------------------------


def test_every_one_character_change_is_refused(kms: KMSClient, symmetric_key: str) -> None:
    """Changing any one character of the blob gives the same InvalidPayload.

    Every 13th position and the last eight (padding and signature): a sweep of every position
    with four replacement characters takes half a minute and found no exception either.
    """
    data = mint({"name": "approve", "type": "success", "output": {"ok": True}}, symmetric_key)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    positions = sorted({*range(0, len(data), 13), *range(len(data) - 8, len(data))})
    for position in positions:
        original = data[position]
        replacement = "A" if original != "A" else "B"
        refused_before_auth(opener, data[:position] + replacement + data[position + 1 :])
    assert len(positions) > 100


def test_bytes_after_the_message_are_refused(kms: KMSClient, symmetric_key: str) -> None:
    """The SDK stops reading at the message's end; anything appended makes the blob invalid."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    message = base64.urlsafe_b64decode(data[2:])
    assert opener.open(data, now=NOW).action.name == "go"
    for extra in (b"\x00", b"\x00\x00\x00", b"trailing"):
        refused_before_auth(opener, "2-" + base64.urlsafe_b64encode(message + extra).decode())


def test_a_refused_url_leaves_nothing_to_report_when_collected(
    kms: KMSClient, symmetric_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused message leaves no SDK stream whose collection raises ("Footer not read").

    Python 3.13 (and any Python in development mode) prints such an exception with its
    traceback on stderr, once per forged URL; older ones drop it silently, so the SDK's
    ``close`` is watched as well.
    """
    from aws_encryption_sdk.streaming_client import StreamDecryptor

    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    raised: list[str] = []
    sdk_close = StreamDecryptor.close

    def close(self: StreamDecryptor) -> None:
        try:
            sdk_close(self)
        except Exception as error:
            raised.append(type(error).__name__)
            raise

    monkeypatch.setattr(StreamDecryptor, "close", close)
    ignored: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda event: ignored.append(event.exc_value))
    for forged in (data[:-40] + "A" * 40, data[:200] + "B" + data[201:], data + "AAAA"):
        with pytest.raises(InvalidPayload):
            opener.open(forged, now=NOW)
    gc.collect()
    assert (raised, ignored) == ([], [])


def test_a_url_under_another_key_is_refused_without_calling_kms(kms: KMSClient) -> None:
    """A blob under another KMS key is refused before KMS is asked (strict: no discovery)."""
    ours = kms.create_key()["KeyMetadata"]["Arn"]
    theirs = kms.create_key()["KeyMetadata"]["Arn"]
    data = mint({"name": "go", "type": "heartbeat"}, theirs)
    opener = OriginalUrlOpener(ours, client=kms)
    counter = KmsCalls(kms)
    refused_before_auth(opener, data)
    assert counter.names == []


def test_more_than_one_data_key_is_refused_without_calling_kms(kms: KMSClient) -> None:
    """The original wrapped its data key once; a message with two is refused before KMS."""
    ours = kms.create_key()["KeyMetadata"]["Arn"]
    other = kms.create_key()["KeyMetadata"]["Arn"]
    import aws_encryption_sdk
    import botocore.session
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[ours, other], botocore_session=botocore.session.Session()
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    plaintext = original_payload(TOKEN, {"name": "go", "type": "heartbeat"}, iat=NOW, tid=TID)
    ciphertext, _ = client.encrypt(source=plaintext, key_provider=provider)
    opener = OriginalUrlOpener(ours, client=kms)
    counter = KmsCalls(kms)
    refused_before_auth(opener, "2-" + base64.urlsafe_b64encode(ciphertext).decode())
    assert counter.names == []


def test_unencrypted_1_urls_are_never_accepted(kms: KMSClient, symmetric_key: str) -> None:
    """The original's ``1-`` format (anyone can write one) is refused like any forgery."""
    data = mint({"name": "go", "type": "heartbeat"}, None)
    assert data.startswith("1-")
    assert is_original_blob(data)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    counter = KmsCalls(kms)
    refused_before_auth(opener, data)
    assert counter.names == []


@pytest.mark.parametrize(
    "data",
    ["", "2-", "2", "3-AAAA", "2-!!!!", "2-AAAAA", "2-AAAA====", "2-" + "A" * 400, "-2AAAA"],
)
def test_what_is_not_a_2_blob_is_refused(kms: KMSClient, symmetric_key: str, data: str) -> None:
    """Empty, other prefixes, bad or truncated base64 and garbage messages: one InvalidPayload."""
    refused_before_auth(OriginalUrlOpener(symmetric_key, client=kms), data)


def test_our_own_blobs_are_not_original_ones(kms: KMSClient, symmetric_key: str) -> None:
    """A blob of our own format is told apart by its prefix and refused by the opener."""
    codec = Codec(LocalKey.generate())
    blob = codec.seal(
        Claims(
            token=TOKEN,
            action=HeartbeatAction(name="go"),
            transaction_id="0b9b4a0e-8c83-4f0e-9d0a-7f6a1c0e5b11",
            issued_at=NOW,
        )
    )
    assert not is_original_blob(blob)
    refused_before_auth(OriginalUrlOpener(symmetric_key, client=kms), blob)


def test_oversized_blobs_are_refused_before_any_kms_call(
    kms: KMSClient, symmetric_key: str
) -> None:
    """A blob over the bound is PayloadTooLarge, and KMS is never called."""
    opener = OriginalUrlOpener(symmetric_key, client=kms, max_blob_length=3000)
    data = mint({"name": "go", "type": "success", "output": "x" * 3000}, symmetric_key)
    counter = KmsCalls(kms)
    with pytest.raises(PayloadTooLarge):
        opener.open(data, now=NOW)
    with pytest.raises(PayloadTooLarge):
        OriginalUrlOpener(symmetric_key, client=kms).open("2-" + "A" * 20_000, now=NOW)
    assert counter.names == []


def test_authentic_but_unusable_payloads_say_so(kms: KMSClient, symmetric_key: str) -> None:
    """After decryption, what our models refuse is InvalidPayload with its own message."""
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    cases: list[bytes | str] = [
        b"not json",
        json.dumps({"token": TOKEN, "iat": 1, "action": {"name": "go", "type": "heartbeat"}}),
        original_payload(TOKEN, {"name": "j\u00e4", "type": "heartbeat"}, iat=NOW, tid=TID),
        original_payload(TOKEN, {"name": "go", "type": "launch"}, iat=NOW, tid=TID),
        original_payload(
            TOKEN,
            {"name": "go", "type": "heartbeat", "response": {"redirect": "/x"}},
            iat=NOW,
            tid=TID,
        ),
    ]
    for plaintext in cases:
        raw = plaintext if isinstance(plaintext, bytes) else plaintext.encode()
        data = mint_original_blob(raw, kms_key_id=symmetric_key)
        with pytest.raises(InvalidPayload) as caught:
            opener.open(data, now=NOW)
        assert caught.value.message != PRE_AUTH_MESSAGE
        assert "original" in caught.value.message
        assert TOKEN not in caught.value.message


# --- KMS failures are ours, not the URL's -----------------------------------------------------


def test_kms_throttling_is_key_unavailable(kms: KMSClient, symmetric_key: str) -> None:
    """KMS refusing for its own reasons is KeyUnavailable (503), at the client seam (Stubber)."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    stubbed = boto3.client("kms", region_name=REGION)
    with Stubber(stubbed) as stubber:
        stubber.add_client_error("decrypt", service_error_code="ThrottlingException")
        with pytest.raises(KeyUnavailable) as caught:
            OriginalUrlOpener(symmetric_key, client=stubbed).open(data, now=NOW)
    assert caught.value.status == 503
    assert caught.value.aws_code == "ThrottlingException"


def test_kms_calling_the_ciphertext_invalid_is_invalid_payload(
    kms: KMSClient, symmetric_key: str
) -> None:
    """KMS answering InvalidCiphertextException is the URL's fault: InvalidPayload (Stubber)."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    stubbed = boto3.client("kms", region_name=REGION)
    with Stubber(stubbed) as stubber:
        stubber.add_client_error("decrypt", service_error_code="InvalidCiphertextException")
        refused_before_auth(OriginalUrlOpener(symmetric_key, client=stubbed), data)


def test_kms_unreachable_is_key_unavailable(kms: KMSClient, symmetric_key: str) -> None:
    """No connection to KMS is KeyUnavailable, not a stack trace or InvalidPayload."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)

    def no_network(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com")

    kms.meta.events.register("before-send.kms.Decrypt", no_network)
    with pytest.raises(KeyUnavailable) as caught:
        OriginalUrlOpener(symmetric_key, client=kms).open(data, now=NOW)
    assert caught.value.aws_code == "EndpointConnectionError"


# --- secrets and configuration ----------------------------------------------------------------


def test_no_token_or_blob_reaches_messages_or_logs(
    kms: KMSClient, symmetric_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the task token nor the blob appears in any error message or log record."""
    caplog.set_level(logging.DEBUG)
    opener = OriginalUrlOpener(symmetric_key, client=kms)
    good = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    blobs = [
        good[:-6] + "AAAAAA",
        mint({"name": "go", "type": "heartbeat"}, None),
        mint({"name": "go", "type": "heartbeat"}, symmetric_key, exp=NOW - timedelta(days=1)),
        mint_original_blob(
            original_payload(TOKEN, {"name": "\u00e9", "type": "heartbeat"}, iat=NOW, tid=TID),
            kms_key_id=symmetric_key,
        ),
    ]
    for blob in blobs:
        with pytest.raises(PayloadError) as caught:  # InvalidPayload or ExpiredPayload
            opener.open(blob, now=NOW)
        assert TOKEN[:40] not in str(caught.value)
        assert blob[2:40] not in str(caught.value)
    assert TOKEN[:40] not in caplog.text
    assert all(blob[2:40] not in caplog.text for blob in blobs)
    assert "original callback URL refused" in caplog.text
    assert TOKEN[:40] not in repr(opener.open(good, now=NOW))


@pytest.mark.usefixtures("no_encryption_sdk")
def test_missing_extra_is_a_configuration_error(kms: KMSClient, symmetric_key: str) -> None:
    """Without aws-encryption-sdk the opener says which extra to install."""
    with pytest.raises(ConfigurationError) as caught:
        OriginalUrlOpener(symmetric_key, client=kms)
    assert "pip install 'sfn-callback-urls[original]'" in caught.value.message
    assert caught.value.status == 500


@pytest.mark.parametrize("key_id", ["", "   "])
def test_an_empty_key_id_is_a_configuration_error(key_id: str) -> None:
    """The opener needs the original stack's key: an empty one is refused at construction."""
    with pytest.raises(ConfigurationError):
        OriginalUrlOpener(key_id)


def test_unknown_key_id_is_key_unavailable(kms: KMSClient, symmetric_key: str) -> None:
    """A key id that DescribeKey cannot find fails as KeyUnavailable, naming the operation."""
    data = mint({"name": "go", "type": "heartbeat"}, symmetric_key)
    opener = OriginalUrlOpener("0b9b4a0e-8c83-4f0e-9d0a-7f6a1c0e5b11", client=kms)
    with pytest.raises(KeyUnavailable, match="DescribeKey"):
        opener.open(data, now=NOW)
