"""Mint callback URLs in the original sfn-callback-urls app's formats, for migration tests.

Written from the original's format (benkehoe/sfn-callback-urls v1.0.0 and v1.1.0), not its code,
with the real aws-encryption-sdk and a KMS key (moto in tests):

- the payload is ``json.dumps`` (default separators, ASCII escapes) of an object whose keys come
  in this order: ``token``, ``iat``, ``tid``, ``iss`` (if any), ``exp`` (if any), ``action``,
  ``param`` (only when true); ``iat``/``exp`` are whole epoch seconds and ``tid`` is
  ``uuid4().hex``;
- ``2-`` + padded base64url of an aws-encryption-sdk message over that payload, encrypted under
  the one KMS key ``KEY_ID`` (a key id, alias or ARN: the message records the key ARN that
  ``GenerateDataKey`` returns), with no encryption context of its own and the SDK's default
  algorithm suite and frame length (aws-encryption-sdk 1.x, which the original ran:
  AES-256-GCM/HKDF-SHA384/ECDSA-P384, 4096-byte frames, message format 1);
- ``1-`` + padded base64url of the payload itself when encryption was disabled;
- the URL is ``{base_url}/respond?action=NAME&type=TYPE&data=BLOB`` (one trailing ``/`` of the
  base URL dropped, the query built by ``urllib.parse.urlencode``, so ``=`` is ``%3D``).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

import aws_encryption_sdk
import botocore.session
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy

__all__ = [
    "Suite",
    "mint_original_blob",
    "mint_original_url",
    "original_payload",
    "original_url",
]

Suite = Literal["sdk1", "sdk2"]
"""Which SDK's defaults to write with.

``sdk1``: aws-encryption-sdk 1.x (pinned by the original v1.0.0): the non-committing suite
0x0378, message format 1. ``sdk2``: 2.x's defaults (pinned by v1.1.0, whose code could only run
after the upstream fix of its issue #8): the key-committing suite 0x0578, message format 2.
"""


def original_payload(
    token: str,
    action: dict[str, Any],
    *,
    iat: datetime,
    exp: datetime | None = None,
    param: bool = False,
    tid: str | None = None,
    iss: str | None = None,
) -> bytes:
    """The plaintext the original sealed: its JSON payload, in its key order."""
    payload: dict[str, Any] = {
        "token": token,
        "iat": int(iat.timestamp()),
        "tid": tid if tid is not None else uuid.uuid4().hex,
    }
    if iss:
        payload["iss"] = iss
    if exp:
        payload["exp"] = int(exp.timestamp())
    payload["action"] = action
    if param:
        payload["param"] = True
    return json.dumps(payload).encode()


def mint_original_blob(
    plaintext: bytes,
    *,
    kms_key_id: str | None,
    suite: Suite = "sdk1",
    botocore_session: botocore.session.Session | None = None,
) -> str:
    """``2-`` + the encrypted payload, or ``1-`` + the payload when ``kms_key_id`` is None."""
    if kms_key_id is None:
        return "1-" + base64.urlsafe_b64encode(plaintext).decode("ascii")
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[kms_key_id],
        botocore_session=botocore_session or botocore.session.Session(),
    )
    if suite == "sdk1":
        client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        )
        extra = {
            "algorithm": Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
            "frame_length": 4096,
        }
    else:
        client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        )
        extra = {}
    ciphertext, _header = client.encrypt(source=plaintext, key_provider=provider, **extra)
    return "2-" + base64.urlsafe_b64encode(ciphertext).decode("ascii")


def original_url(base_url: str, action_name: str, action_type: str, blob: str) -> str:
    """The callback URL the original built around a blob."""
    if base_url.endswith("/"):
        base_url = base_url[:-1]
    query = urlencode([("action", action_name), ("type", action_type), ("data", blob)])
    return f"{base_url}/respond?{query}"


def mint_original_url(
    base_url: str,
    token: str,
    action: dict[str, Any],
    *,
    kms_key_id: str | None,
    iat: datetime,
    exp: datetime | None = None,
    param: bool = False,
    tid: str | None = None,
    iss: str | None = None,
    suite: Suite = "sdk1",
    botocore_session: botocore.session.Session | None = None,
) -> str:
    """A callback URL exactly as the original's create-URLs function returned it.

    ``kms_key_id=None`` gives the unencrypted ``1-`` format (the original without ``KEY_ID``).
    """
    plaintext = original_payload(token, action, iat=iat, exp=exp, param=param, tid=tid, iss=iss)
    blob = mint_original_blob(
        plaintext, kms_key_id=kms_key_id, suite=suite, botocore_session=botocore_session
    )
    return original_url(base_url, action["name"], action["type"], blob)
