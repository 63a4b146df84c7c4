"""Write the seed corpora under ``fuzz/corpus/<target>/`` (deterministic: same files every run).

Run ``python fuzz/make_corpus.py`` after changing the fixtures in ``_common.py`` or the wire
format; commit the result. Each directory is rewritten from scratch. The seeds are:

* ``fuzz_open_blob``: real blobs (every action type, both modes, an old key, expired and
  foreign-purpose ones), the authentic plaintexts inside signed blobs (so the fuzzer starts at
  the decoding of verified plaintexts), and a few malformed strings;
* ``fuzz_callback_url``: real callback URLs and bare query strings, with output parameters,
  mismatched ``action``/``type``, duplicated and missing ``data``;
* ``fuzz_create_urls``: create-URLs requests: each action alone, all together, the original
  README's POST example, options, and invalid requests of every error code;
* ``fuzz_handler``: fuzzer inputs chosen (from seeded random bytes) to cover every query shape,
  action type, method and answer class of the handler target;

plus, in each directory, the inputs of past findings (``finding-*``) as regression seeds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import _common
from _common import ACTIONS, FIXTURES, REAL_TOKEN, TEXT_TOKEN

CORPUS = _common.FUZZ_DIR / "corpus"

#: Inputs that once failed a target (see docs/fuzzing.md), kept as regression seeds.
FINDINGS: dict[str, dict[str, bytes]] = {
    "fuzz_create_urls": {
        # A lone surrogate in a JSONPath (a decoded JSON mapping allows it) made
        # parse_create_urls_request raise UnicodeEncodeError instead of InvalidRequest.
        "finding-surrogate-jsonpath": json.dumps(
            {
                "token": "abc",
                "actions": [
                    {
                        "name": "p",
                        "type": "post",
                        "outcomes": [
                            {"name": "o", "type": "failure", "schema": {}, "cause_path": "\ud800"}
                        ],
                    }
                ],
            }
        ).encode("ascii"),
        # A lone surrogate in a success output validated, then minting raised
        # PydanticSerializationError (codec._encode_plaintext) instead of a library error.
        "finding-surrogate-output": json.dumps(
            {"token": "abc", "actions": [{"name": "a", "type": "success", "output": "\ud800"}]}
        ).encode("ascii"),
        # A number beyond float range (1e999, also NaN/Infinity) was accepted and the minted
        # URL completed the task with null in its place.
        "finding-infinite-output": b'{"token": "abc", "actions": [{"name": "a", '
        b'"type": "success", "output": [1e999]}]}',
        # A non-ASCII base URL was minted as given: URLs a server cannot send in a Location
        # header or an e-mail client may mangle. Minted URLs are now ASCII (IDNA host,
        # percent-encoded path), as redirects already were.
        "finding-nonascii-base-url": json.dumps(
            {
                "token": "abc",
                "actions": [{"name": "approve", "type": "success"}],
                "base_url": "https://\u4f8b\u3048.\u30c6\u30b9\u30c8/\u30d1\u30b9",
            }
        ).encode("ascii"),
    },
}


def _approve_url() -> str:
    return next(f for f in FIXTURES if f.label == "encrypted-p1-approve").url


FINDINGS["fuzz_callback_url"] = {
    # A line break inside a whole URL's parameter was kept by CallbackQuery.parse, while urllib
    # (and browsers) drop it: two readings of one URL (issue 9, finding 4).
    "finding-linebreak-in-url": _approve_url()
    .replace("action=approve", "action=appr\r\nove")
    .encode(),
}
FINDINGS["fuzz_handler"] = {
    # A lone surrogate in a parsed-mapping query value reached a redirect template: quote()
    # raised UnicodeEncodeError, a 500 (issue 9, finding 2).
    "finding-surrogate-redirect": base64.b64decode(
        "xJ3/////////9NgtKYAcDAAAAAAAAAAAAAAAAAAAAAAAAAD+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAk8YMDAwMDAwM"
        "3eTniS+KhfNOsbhjwj1xQKDGG4v5zeM6vK8pgBwMk8bL8Yo="
    ),
}


def _write(directory: Path, files: dict[str, bytes]) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, content in sorted(files.items()):
        (directory / name).write_bytes(content)


def _plaintext(blob: str) -> bytes:
    # A signed blob is header || plaintext || tag(16); the local key's header is 7 bytes.
    raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    return raw[7:-16]


def _pick(label_prefixes: tuple[str, ...]) -> list[_common.Fixture]:
    return [f for f in FIXTURES if f.label.startswith(label_prefixes)]


def open_blob_seeds() -> dict[str, bytes]:
    """Real blobs, authentic plaintexts, a few malformed strings."""
    blobs = _pick(
        ("encrypted-p1", "signed-noexp", "old-key-approve", "old-key-decide", "expired-approve")
    )
    blobs += _pick(("foreign-approve",))
    files = {f"blob-{f.label}": f.blob.encode("ascii") for f in blobs}
    for f in _pick(("signed-p0", "signed-noexp")):
        files[f"plaintext-{f.label}"] = _plaintext(f.blob)
    files["malformed-empty"] = b""
    files["malformed-padding"] = FIXTURES[0].blob.encode("ascii") + b"=="
    files["malformed-std-alphabet"] = FIXTURES[0].blob.replace("-", "+").encode("ascii")
    return files


def callback_url_seeds() -> dict[str, bytes]:
    """Real URLs and queries, with extras and mistakes."""
    files: dict[str, bytes] = {}
    for f in _pick(("encrypted-p1", "signed-noexp")):
        files[f"url-{f.label}"] = f.url.encode("ascii")
    for f in _pick(("signed-p0",)):
        files[f"query-{f.label}"] = f.query.encode("ascii")
    approve = next(f for f in FIXTURES if f.label == "encrypted-p1-approve")
    reject = next(f for f in FIXTURES if f.label == "signed-p1-reject")
    files["params-approve"] = f"{approve.url}&user=ben&reason=late".encode()
    files["params-reject-unicode"] = f"{reject.query}&user=%C3%A9%E4%B8%AD&reason=%24x".encode()
    files["mismatch-action"] = approve.url.replace("action=approve", "action=reject").encode()
    files["mismatch-type"] = approve.url.replace("type=success", "type=failure").encode()
    files["no-action-type"] = f"data={approve.blob}".encode()
    files["two-data"] = f"data={approve.blob}&data={approve.blob}".encode()
    files["no-data"] = b"https://example.com/respond?action=approve&type=success"
    files["fragment"] = f"{approve.url}#data=x".encode()
    files["expired"] = next(f for f in FIXTURES if f.label == "expired-approve").url.encode()
    files["question-mark-value"] = f"{approve.query}&note=why?".encode()
    files["question-mark-smuggle"] = f"data=NOT-THE-BLOB?&{approve.query}".encode()
    files["leading-question-mark"] = f"?{approve.query}".encode()
    # A query starting like a URL, a second blob behind a "#": two data parameters to any
    # ordinary parser; read as a URL, the second was hidden in the fragment.
    for name, prefix in (("slash", "/"), ("slashes", "//"), ("question", "?"), ("hash", "#")):
        files[f"url-like-{name}"] = f"{prefix}?{approve.query}#&data={reject.blob}".encode()
    return files


def _request(actions: list[dict[str, Any]], **options: Any) -> bytes:
    return json.dumps({"token": REAL_TOKEN, "actions": actions, **options}).encode("utf-8")


README_POST_ACTION = {
    "name": "callback",
    "type": "post",
    "outcomes": [
        {
            "name": "happy",
            "type": "success",
            "schema": {
                "type": "object",
                "properties": {"result": {"const": "good"}},
                "required": ["result"],
            },
            "output_body": True,
        },
        {
            "name": "sad",
            "type": "failure",
            "schema": {
                "type": "object",
                "properties": {"result": {"const": "bad"}, "reason": {"type": "string"}},
                "required": ["result", "reason"],
            },
            "error_path": "$.reason",
        },
    ],
}


def create_urls_seeds() -> dict[str, bytes]:
    """Valid requests (each action, all, options) and invalid ones of every error code."""
    files = {f"action-{a['name']}": _request([a]) for a in ACTIONS}
    files["all-actions"] = _request(ACTIONS)
    files["readme-post"] = _request([README_POST_ACTION])
    files["options"] = _request(
        ACTIONS[:3],
        expiration="2026-06-08T12:00:00Z",
        enable_output_parameters=True,
        base_url="https://example.com/callbacks/",
    )
    files["text-token"] = json.dumps({"token": TEXT_TOKEN, "actions": ACTIONS[:2]}).encode()
    files["offset-expiration"] = _request(ACTIONS[:1], expiration="2026-06-02T00:00:00.25+02:00")
    bad = {
        "bad-duplicate-name": _request([ACTIONS[0], ACTIONS[0]]),
        "bad-past-expiration": _request(ACTIONS[:1], expiration="2020-01-01T00:00:00Z"),
        "bad-naive-expiration": _request(ACTIONS[:1], expiration="2026-07-01T00:00:00"),
        "bad-jsonpath": _request(
            [
                {
                    "name": "p",
                    "type": "post",
                    "outcomes": [
                        {"name": "o", "type": "success", "schema": {}, "output_path": "$.["}
                    ],
                }
            ]
        ),
        "bad-schema": _request(
            [
                {
                    "name": "p",
                    "type": "post",
                    "outcomes": [{"name": "o", "type": "success", "schema": {"type": 5}}],
                }
            ]
        ),
        "bad-type": _request([{"name": "x", "type": "explode"}]),
        "bad-name": _request([{"name": "no spaces", "type": "heartbeat"}]),
        "bad-redirect": _request(
            [{"name": "r", "type": "heartbeat", "response": {"redirect": "javascript:x"}}]
        ),
        "bad-extra-field": _request([{"name": "x", "type": "heartbeat", "extra": 1}]),
        "bad-no-token": json.dumps({"actions": ACTIONS[:1]}).encode(),
        "bad-long-token": json.dumps({"token": "A" * 3000, "actions": ACTIONS[:1]}).encode(),
        "bad-base-url": _request(ACTIONS[:1], base_url="https://example.com/x?y=1"),
        "bad-not-json": b'{"token": "abc", "actions": [',
        "bad-array": b"[]",
    }
    files.update(bad)
    return files


def handler_seeds() -> dict[str, bytes]:
    """Seeded random inputs: one per (action type, method, answer) and per (query shape, answer)."""
    import fuzz_handler

    rng = random.Random(2026)
    chosen: dict[str, bytes] = {}
    for _ in range(20_000):
        data = rng.randbytes(rng.randint(8, 160))
        case = fuzz_handler.decode(data)
        handler = fuzz_handler.CallbackHandler(
            _common.CODECS[case.mode],
            enable_output_parameters=case.output_parameters,
            enable_post_actions=case.post_actions,
            confirm_get=case.confirm_get,
            clock=lambda case=case: case.now,
            complete=fuzz_handler.Recorder(fail=case.complete_fails),
            logger=fuzz_handler._LOGGER,
        )
        answer = f"{handler.handle(case.request).status // 100}xx"
        method = str(case.request.method).upper()
        method = method if method in ("GET", "POST", "HEAD") else "other"
        action = case.fixture.action["type"] if case.fixture is not None else "none"
        chosen.setdefault(f"{action}-{method}-{answer}", data)
        chosen.setdefault(f"query{case.query_kind}-{answer}", data)
    return chosen


def http_seeds() -> dict[str, bytes]:
    """Seeded random inputs: one per (front door, status), and per (door, answer class)."""
    import fuzz_http

    rng = random.Random(3033)
    chosen: dict[str, bytes] = {}
    for _ in range(20_000):
        data = rng.randbytes(rng.randint(8, 200))
        door, status = fuzz_http.run(data)
        chosen.setdefault(f"{door}-{status}", data)
    return chosen


def original_seeds() -> dict[str, bytes]:
    """Seeded random inputs: one per (message kind, answer), the genuine messages included."""
    import fuzz_original

    rng = random.Random(4044)
    chosen: dict[str, bytes] = {}
    for _ in range(3_000):
        data = rng.randbytes(rng.randint(8, 300))
        fdp = fuzz_original.atheris.FuzzedDataProvider(data)
        fdp.ConsumeIntInRange(0, len(fuzz_original.GENUINE) - 1)
        kind = fdp.ConsumeIntInRange(0, 3)
        message = fuzz_original.decode(data)
        handler = fuzz_original.CallbackHandler(
            _common.CODECS[_common.Mode.ENCRYPTED],
            clock=lambda: _common.FIXED_NOW,
            complete=fuzz_original.Recorder(),
            logger=fuzz_original._LOGGER,
            original_kms_key_id=fuzz_original.KEY_ARN,
            original_kms_client=fuzz_original.KMS.client,
        )
        status = fuzz_original._handle(handler, fuzz_original._query(message))
        chosen.setdefault(f"kind{kind}-{status}", data)
    return chosen


def main() -> None:
    """Rewrite every corpus directory."""
    corpora = {
        "fuzz_open_blob": open_blob_seeds(),
        "fuzz_callback_url": callback_url_seeds(),
        "fuzz_create_urls": create_urls_seeds(),
        "fuzz_handler": handler_seeds(),
        "fuzz_http": http_seeds(),
        "fuzz_original": original_seeds(),
    }
    for target, files in corpora.items():
        files.update(FINDINGS.get(target, {}))
        _write(CORPUS / target, files)
        digest = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()
        print(f"{target}: {len(files)} files, sha256 {digest[:16]}", file=sys.stderr)


if __name__ == "__main__":
    main()
