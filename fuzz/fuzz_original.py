"""Fuzz the opening of the original app's ``2-`` URLs: hostile aws-encryption-sdk messages.

With ``original_kms_key_id``, `CallbackHandler` hands a ``2-`` blob to aws-encryption-sdk and
KMS: code we did not write, on a message anyone can write offline. This target builds such
messages from fuzz bytes around three genuine ones (made at start-up with the real SDK under a
fake KMS, the original's algorithm suite and payloads): the bytes as they are, a genuine message
with one byte changed, or a header rebuilt field by field with hostile values (encryption
context keys and values of any length and content, the SDK's own key missing or doubled, zero,
one or two data keys, any provider id and key ARN, data keys empty, of any size or over KMS's
6,144-byte limit, any algorithm id), followed by the genuine body or fuzz bytes.

The fake KMS (a real botocore client whose calls are answered in memory, never sent) decrypts
only the data keys it made, under the context they were made with, as KMS does.

Pass conditions: ``handle()`` raises nothing and answers below 500; only a genuine message,
byte for byte, completes (with its own token); KMS is never asked to decrypt a data key of a
size KMS never wrote, nor under an encryption context the original never wrote; the same
refused URL a second time costs no KMS call; at INFO, each request logs exactly one record, the
handler's (no aws-encryption-sdk record, no traceback); nothing opens a socket.

Run: ``python fuzz/fuzz_original.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import struct
import sys
from typing import Any

import _common
import atheris
import aws_encryption_sdk
import boto3
from _common import CODECS, FIXED_NOW, MINT_NOW, REAL_TOKEN, TEXT_TOKEN, Mode
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import KMSMasterKey
from botocore.awsrequest import AWSResponse
from fuzz_handler import Recorder

from sfn_callback_urls import CallbackHandler, CallbackRequest

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/00000000-1111-2222-3333-444444444444"
OTHER_ARN = "arn:aws:kms:us-east-1:111122223333:key/99999999-1111-2222-3333-444444444444"
SDK_CONTEXT_KEY = b"aws-crypto-public-key"
MAX_KMS_CIPHERTEXT = 6144
ALGORITHM_IDS = [0x0378, 0x0578, 0x0178, 0x0014, 0x0346, 0x0214, 0x0000, 0xFFFF]


class FakeKms:
    """KMS in memory, on a real botocore client: data keys it made, under their context only."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "kms",
            region_name="us-east-1",
            aws_access_key_id="fuzz",
            aws_secret_access_key="fuzz",  # noqa: S106 - not a secret: nothing is ever sent
        )
        self.keys: dict[bytes, tuple[bytes, dict[str, str]]] = {}
        self.decrypts: list[dict[str, Any]] = []
        self._answer: tuple[int, dict[str, Any]] = (500, {})
        events = self.client.meta.events
        events.register("before-parameter-build.kms.*", self._prepare)
        events.register("before-call.kms.*", self._respond)

    def _prepare(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GenerateDataKey":
            secret = hashlib.sha256(b"fuzz-data-key-%d" % len(self.keys)).digest()
            blob = b"fake-kms:" + hashlib.sha256(secret).digest()
            self.keys[blob] = (secret, dict(params.get("EncryptionContext", {})))
            answer = {"KeyId": KEY_ARN, "Plaintext": secret, "CiphertextBlob": blob}
            self._answer = (200, answer)
        elif model.name == "Decrypt":
            self.decrypts.append(dict(params))
            known = self.keys.get(params.get("CiphertextBlob", b""))
            if known is None or known[1] != params.get("EncryptionContext", {}):
                self._answer = (400, _error("InvalidCiphertextException"))
            elif params.get("KeyId") != KEY_ARN:
                self._answer = (400, _error("IncorrectKeyException"))
            else:
                answer = {"KeyId": KEY_ARN, "Plaintext": known[0]}
                self._answer = (200, {**answer, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
        else:
            self._answer = (400, _error("AccessDeniedException"))

    def _respond(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        status, parsed = self._answer
        parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://kms.invalid", status, {}, None), parsed


def _error(code: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": "refused"}}


KMS = FakeKms()


def _genuine(token: str, action: dict[str, Any], algorithm: Algorithm) -> bytes:
    payload = {
        "token": token,
        "iat": int(MINT_NOW.timestamp()),
        "tid": "9d379e7c96464029b6fdef643cdcf420",
        "action": action,
    }
    policy = (
        CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        if algorithm is Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
        else CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
    ciphertext, _ = client.encrypt(
        source=json.dumps(payload).encode(),
        key_provider=KMSMasterKey(key_id=KEY_ARN, client=KMS.client),
        algorithm=algorithm,
        frame_length=4096,
    )
    return bytes(ciphertext)


_SDK1 = Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
_SDK2 = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
#: The genuine messages (the original's payloads and suites) and the tokens they carry.
GENUINE: list[tuple[bytes, str]] = [
    (
        _genuine(REAL_TOKEN, {"name": "approve", "type": "success", "output": {"ok": 1}}, _SDK1),
        REAL_TOKEN,
    ),
    (_genuine(TEXT_TOKEN, {"name": "ping", "type": "heartbeat"}, _SDK1), TEXT_TOKEN),
    (
        _genuine(REAL_TOKEN, {"name": "no", "type": "failure", "error": "E", "cause": "C"}, _SDK2),
        REAL_TOKEN,
    ),
]
_GENUINE_BYTES = dict(GENUINE)

_CAPTURE: list[logging.LogRecord] = []


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        """Keep every record that reaches the root logger."""
        _CAPTURE.append(record)


logging.getLogger().addHandler(_Capture(logging.INFO))
logging.getLogger().setLevel(logging.INFO)  # the ready app's level in the template


def _take(data: bytes, at: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">H", data, at)
    return data[at + 2 : at + 2 + length], at + 2 + length


def _field(raw: bytes) -> bytes:
    return struct.pack(">H", len(raw) & 0xFFFF) + raw


def _text(fdp: atheris.FuzzedDataProvider, limit: int) -> bytes:
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, limit))
    if choice == 1:  # long runs: the 7 KB of attacker text the review logged
        return b"INJECTED\r\n" * fdp.ConsumeIntInRange(0, 700)
    text = fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, limit))
    return text.encode("utf-8", "surrogatepass")


def _rebuilt(fdp: atheris.FuzzedDataProvider, genuine: bytes) -> bytes:
    """The genuine message's header rebuilt field by field with hostile values."""
    version = genuine[0]
    fixed_length = 20 if version == 1 else 35  # v1: type, alg, 16-byte id; v2: alg, 32-byte id
    fixed = bytearray(genuine[:fixed_length])
    aad, at = _take(genuine, fixed_length)
    _count, at = struct.unpack_from(">H", genuine, at)[0], at + 2
    provider_id, at = _take(genuine, at)
    provider_info, at = _take(genuine, at)
    edk, at = _take(genuine, at)
    rest = genuine[at:]
    if fdp.ConsumeIntInRange(0, 3) == 0:
        algorithm_at = 2 if version == 1 else 1
        struct.pack_into(">H", fixed, algorithm_at, _pick(fdp, ALGORITHM_IDS))
    pairs: list[tuple[bytes, bytes]] = []
    (pair_count,) = struct.unpack_from(">H", aad, 0) if aad else (0,)
    where = 2
    for _ in range(pair_count):
        name, where = _take(aad, where)
        value, where = _take(aad, where)
        pairs.append((name, value))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        action = fdp.ConsumeIntInRange(0, 3)
        if action == 0 and pairs:
            pairs.pop(fdp.ConsumeIntInRange(0, len(pairs) - 1))
        elif action == 1:
            pairs.append((SDK_CONTEXT_KEY, _text(fdp, 60)))
        else:
            pairs.append((_text(fdp, 40), _text(fdp, 200)))
    aad_out = struct.pack(">H", len(pairs)) + b"".join(_field(k) + _field(v) for k, v in pairs)
    if not pairs and fdp.ConsumeBool():
        aad_out = b""
    shape = fdp.ConsumeIntInRange(0, 7)
    if shape == 0:
        edk = b""
    elif shape == 1:
        edk = bytes(fdp.ConsumeIntInRange(MAX_KMS_CIPHERTEXT - 1, MAX_KMS_CIPHERTEXT + 2))
    elif shape == 2:
        edk = _text(fdp, 300)
    elif shape == 3:
        edk = edk[:-1] + bytes([edk[-1] ^ 1])
    if fdp.ConsumeIntInRange(0, 5) == 0:
        provider_info = _pick(fdp, [OTHER_ARN.encode(), b"", _text(fdp, 80)])
    if fdp.ConsumeIntInRange(0, 7) == 0:
        provider_id = _pick(fdp, [b"aws-kms-mrk", b"", b"raw", _text(fdp, 20)])
    one = _field(provider_id) + _field(provider_info) + _field(edk)
    data_keys = _pick(fdp, [1, 1, 1, 1, 0, 2])
    if fdp.ConsumeIntInRange(0, 5) == 0:
        rest = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400))
    return bytes(fixed) + _field(aad_out) + struct.pack(">H", data_keys) + one * data_keys + rest


def _pick(fdp: atheris.FuzzedDataProvider, options: list[Any]) -> Any:
    return options[fdp.ConsumeIntInRange(0, len(options) - 1)]


def decode(data: bytes) -> bytes:
    """The message an input stands for (also used by make_corpus)."""
    fdp = atheris.FuzzedDataProvider(data)
    genuine, _token = _pick(fdp, GENUINE)
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 0:  # genuine, verbatim: it must open
        return genuine
    if kind == 1:  # one byte changed
        at = fdp.ConsumeIntInRange(0, len(genuine) - 1)
        return (
            genuine[:at] + bytes([genuine[at] ^ fdp.ConsumeIntInRange(1, 255)]) + genuine[at + 1 :]
        )
    if kind == 2:
        return _rebuilt(fdp, genuine)
    return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 2000))


def _query(message: bytes) -> str:
    blob = "2-" + base64.urlsafe_b64encode(message).decode("ascii")
    return f"data={blob.replace('=', '%3D')}"


def _handle(handler: CallbackHandler, query: str) -> int:
    before = len(KMS.decrypts)
    _CAPTURE.clear()
    response = handler.handle(CallbackRequest("GET", query, {"accept": "application/json"}))
    if not 200 <= response.status < 500:
        raise AssertionError(f"status {response.status}: {response.body[:200]!r}")
    _common.check_answer_headers(response.headers, "original")
    records = [(r.name, r.levelname, r.getMessage()[:100]) for r in _CAPTURE]
    ours = [r for r in _CAPTURE if r.name == "fuzz.original"]
    if len(ours) != 1 or len(_CAPTURE) != 1 or ours[0].exc_info is not None:
        raise AssertionError(f"not one record of ours, and nothing else: {records}")
    for call in KMS.decrypts[before:]:
        size = len(call.get("CiphertextBlob", b""))
        if not 1 <= size <= MAX_KMS_CIPHERTEXT:
            raise AssertionError(f"KMS was asked to decrypt a {size}-byte data key")
        if set(call.get("EncryptionContext", {})) != {SDK_CONTEXT_KEY.decode()}:
            raise AssertionError(
                f"KMS Decrypt under a foreign context: {call['EncryptionContext']}"
            )
    return response.status


_LOGGER = logging.getLogger("fuzz.original")


def test_one_input(data: bytes) -> None:
    """Open one hostile ``2-`` message twice; check the answers, KMS calls, completions, logs."""
    message = decode(data)
    recorder = Recorder()
    handler = CallbackHandler(
        CODECS[Mode.ENCRYPTED],
        clock=lambda: FIXED_NOW,
        complete=recorder,
        logger=_LOGGER,
        original_kms_key_id=KEY_ARN,
        original_kms_client=KMS.client,
    )
    query = _query(message)
    first = _handle(handler, query)
    decrypts = len(KMS.decrypts)
    second = _handle(handler, query)
    _common.check_no_side_effects()
    genuine_token = _GENUINE_BYTES.get(message)
    if genuine_token is None and recorder.completions:
        raise AssertionError("a message that is not genuine completed")
    for completion in recorder.completions:
        if completion.token != genuine_token:
            raise AssertionError("completed with another token than the message's")
    if first == 400 and (second != 400 or len(KMS.decrypts) != decrypts):
        raise AssertionError("a refused message was not remembered (second answer or KMS call)")


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv)
