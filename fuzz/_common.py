"""Shared set-up of the fuzz targets: instrumented imports, fixed keys, pre-minted URLs.

Every target imports this module first. It instruments the library (and only the library: the
dependencies are imported before, uninstrumented, so the fuzzer's coverage feedback is about
our code and executions stay fast), builds codecs under a fixed local key and mints, always
the same way, a set of valid callback URLs of every action type. Targets splice those into
their inputs so the fuzzer gets past authentication; ``make_corpus.py`` writes them as seeds.

Nothing here is secret: the keys are fixed test keys that seal nothing real.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
import random
import sys
import tempfile
import types
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import atheris

# Heavy dependencies first and uninstrumented: only the library is traced.
import boto3  # noqa: F401
import botocore  # noqa: F401
import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401
import jsonpath_ng.ext.parser  # noqa: F401
import jsonschema  # noqa: F401
import pydantic  # noqa: F401

with atheris.instrument_imports(include=["sfn_callback_urls"]):
    # Every module a target reaches is imported here, so that all of them are instrumented.
    import sfn_callback_urls._codec as codec_module
    import sfn_callback_urls._complete
    import sfn_callback_urls._handler
    import sfn_callback_urls._outcome
    import sfn_callback_urls._render
    import sfn_callback_urls._schema
    import sfn_callback_urls._urls as urls_module
    import sfn_callback_urls.adapters._asgi
    import sfn_callback_urls.adapters._lambda_events
    import sfn_callback_urls.adapters._wsgi
    import sfn_callback_urls.aws_lambda  # noqa: F401
    from sfn_callback_urls import Codec, Mode, PostAction, parse_action
    from sfn_callback_urls.errors import SfnCallbackUrlsError
    from sfn_callback_urls.keys import Keyring, LocalKey

__all__ = [
    "ACTIONS",
    "BASE_URL",
    "CODECS",
    "FIXED_NOW",
    "FIXTURES",
    "KNOWN_TOKENS",
    "MINT_NOW",
    "REAL_TOKEN",
    "SECURITY_HEADERS",
    "SENTINEL_FILE",
    "TEXT_TOKEN",
    "Fixture",
    "SfnCallbackUrlsError",
    "check_answer_headers",
    "check_no_side_effects",
    "deterministic_minting",
    "fuzz_main",
    "seal_signed_plaintext",
    "text_of",
]

#: The time every target checks expiry against (and the corpus is minted for).
FIXED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
#: When the pre-minted URLs were issued.
MINT_NOW = FIXED_NOW - timedelta(hours=1)
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
PURPOSE = "fuzz"

# Fixed test keys (never used for anything real): a primary and an older key of the keyring.
KEY = LocalKey(bytes(range(32)), key_id=b"fuzz")
OLD_KEY = LocalKey(bytes(range(100, 132)), key_id=b"old!")
KEYRING = Keyring([KEY, OLD_KEY])

#: The handler-side codecs, by mode; both open blobs of either key of the keyring.
CODECS: dict[Mode, Codec] = {
    Mode.ENCRYPTED: Codec(KEYRING, mode=Mode.ENCRYPTED, purpose=PURPOSE),
    Mode.SIGNED: Codec(KEYRING, mode=Mode.SIGNED, purpose=PURPOSE),
}


def _real_shaped_token() -> str:
    # 512 bytes -> 684 characters of standard base64 with '+' and '/', like a real task token.
    rng = random.Random(684)
    raw = b"\x00\x00\x00\x2a\x00\x00\x00\x02" + rng.randbytes(504)
    return base64.b64encode(raw).decode("ascii")


#: A token shaped like a real one (stored as raw bytes in blobs).
REAL_TOKEN = _real_shaped_token()
#: A moto-style token (not base64: stored as text in blobs).
TEXT_TOKEN = "5f0c6f7e-3d1a-4b8e-9a2c-1e2d3c4b5a69"
#: The only tokens a verified blob may carry: anything else is a forgery.
KNOWN_TOKENS = frozenset({REAL_TOKEN, TEXT_TOKEN})

_ALWAYS = {"type": "object"}

# --- side effects: no input may make the library open a socket or a file ---------------------

#: A schema file on disk: a ``file://`` ``$ref`` to it must never be followed.
SENTINEL_FILE = Path(tempfile.gettempdir()) / f"sfn-callback-urls-fuzz-{os.getpid()}.json"
SENTINEL_FILE.write_text('{"const": "steered"}')
#: A remote schema: a ``$ref`` to it must never be fetched (nothing listens there).
REMOTE_SCHEMA = "http://127.0.0.1:9/schema.json"
_SIDE_EFFECTS: list[str] = []
_NETWORK_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "urllib.Request"})


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event in _NETWORK_EVENTS or (event == "open" and str(args[0]) == str(SENTINEL_FILE)):
        _SIDE_EFFECTS.append(f"{event} {args[:1]!r}")
        raise PermissionError(f"fuzz guard: {event} refused")  # and the caller may swallow it


sys.addaudithook(_guard)


def check_no_side_effects() -> None:
    """Raise if the last input made the library touch the network or the sentinel file."""
    if _SIDE_EFFECTS:
        found = list(_SIDE_EFFECTS)
        _SIDE_EFFECTS.clear()
        raise AssertionError(f"the library tried to fetch something: {found}")


#: What every answer carries (lower-case names).
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def check_answer_headers(headers: Any, context: str) -> None:
    """Every header is ASCII text without line breaks, and the security headers are there."""
    lowered: dict[str, str] = {}
    for name, value in headers.items() if hasattr(headers, "items") else headers:
        if not (isinstance(name, str) and isinstance(value, str)):
            raise AssertionError(f"header {name!r}: {value!r} is not text; {context}")
        if not (name.isascii() and value.isascii()) or any(c in value for c in "\r\n\0"):
            raise AssertionError(f"header {name!r}: {value!r} cannot be sent; {context}")
        lowered[name.lower()] = value
    for name, value in SECURITY_HEADERS.items():
        if lowered.get(name) != value:
            raise AssertionError(f"{name} missing from {lowered}; {context}")


#: One action of every kind, as the JSON of a create-URLs request. ``$user``/``$reason`` are
#: output-parameter templates (literal text when output parameters are off).
ACTIONS: list[dict[str, Any]] = [
    {
        "name": "approve",
        "type": "success",
        "output": {"approved": True, "by": "$user", "items": ["$user", 1, None, 2.5]},
    },
    {"name": "reject", "type": "failure", "error": "Rejected", "cause": "$user said no: $reason"},
    {"name": "still_working", "type": "heartbeat"},
    {
        "name": "approve_redirect",
        "type": "success",
        "output": None,
        "response": {"redirect": "https://example.com/done/$user?reason=$reason#top"},
    },
    {
        "name": "approve_pages",
        "type": "success",
        "output": "ok",
        "confirm": True,
        "response": {
            "json": {"message": "Thanks, $user", "list": ["$reason"]},
            "html": "<p>Thanks, <b>$user</b></p>",
            "text": "Thanks, $user",
        },
    },
    {"name": "reject_now", "type": "failure", "confirm": False},
    {
        "name": "decide",
        "type": "post",
        "response": {"text": "Recorded."},
        "outcomes": [
            {
                "name": "approved",
                "type": "success",
                "schema": {
                    "type": "object",
                    "properties": {"decision": {"const": "approve"}},
                    "required": ["decision"],
                },
                "output_body": True,
            },
            {
                "name": "picked",
                "type": "success",
                "schema": {
                    "type": "object",
                    "properties": {"items": {"type": "array", "maxItems": 32}},
                    "required": ["items"],
                },
                "output_path": "$.items[*].id",
            },
            {
                "name": "rejected",
                "type": "failure",
                "schema": {"type": "object", "required": ["error"]},
                "error_path": "$.error",
                "cause_path": "$.cause",
            },
            {
                "name": "ping",
                "type": "heartbeat",
                "schema": {"type": "object", "required": ["ping"]},
                "response": {"json": {"pong": True}},
            },
            {"name": "other", "type": "failure", "schema": _ALWAYS, "error": "Unrecognized"},
        ],
    },
    {
        "name": "approve_unicode",
        "type": "success",
        "output": {"by": "$user"},
        "response": {"redirect": "https://exämple.com/ü/$user?q=€&why=$reason#é"},
    },
    {
        "name": "decide_ref",
        "type": "post",
        "outcomes": [
            {
                "name": "referenced",
                "type": "success",
                "schema": {
                    "$defs": {
                        "choice": {"enum": ["a", "b"]},
                        "named": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$"},
                    },
                    "type": "object",
                    "properties": {"choice": {"$ref": "#/$defs/choice"}},
                    "patternProperties": {"^x-": {"$ref": "#/$defs/named"}},
                    "additionalProperties": False,
                },
                "output_path": "$..choice",
            },
            {"name": "fallback", "type": "failure", "schema": {}, "cause_path": "$..*"},
        ],
    },
    {
        # Regular expressions in JSONPaths, on bodies the attacker writes: each of these takes
        # a backtracking engine exponential time on "aaa...a!" (they run on RE2).
        "name": "sift",
        "type": "post",
        "outcomes": [
            {
                "name": "matched",
                "type": "success",
                "schema": {"type": "array"},
                "output_path": '$[?(@ =~ "^(a+)+$")]',
            },
            {
                "name": "noted",
                "type": "failure",
                "schema": {"type": "object", "required": ["notes"]},
                "error_path": '$.notes[?(@ =~ "^(x+x+)+y" && @ != "")]',
                "cause_path": "$.notes[*].`sub(/^(a|aa)+$/, b)`",
            },
            {"name": "rest", "type": "heartbeat", "schema": {}},
        ],
    },
    {
        "name": "vote",
        "type": "post",
        "outcomes": [
            {"name": "yes", "type": "success", "schema": {"const": "yes"}, "output": [1, "yes"]},
            {"name": "no", "type": "failure", "schema": {"const": "no"}, "cause": "voted no"},
            {
                "name": "maybe",
                "type": "success",
                "schema": {"type": "number", "minimum": 0, "maximum": 1},
                "output": None,
                "response": {"redirect": "https://example.com/maybe"},
            },
        ],
    },
    # The approver's confirm pages: context, and comments read from any POST body.
    {
        "name": "approve_commented",
        "type": "success",
        "output": {"approved": True, "by": "$user"},
        "confirm": {
            "title": "Deploy <b>build</b> for $user?",
            "details": "Line one\n\tLine <two> & three",
            "comment": "optional",
            "comment_max_length": 40,
        },
    },
    {
        "name": "reject_reason",
        "type": "failure",
        "error": "Rejected",
        "cause": "$user said no",
        "confirm": {"title": "Why not?", "comment": "required", "comment_max_length": 2000},
    },
]


@dataclass(frozen=True)
class Fixture:
    """A valid callback URL minted at start-up (and its blob)."""

    label: str
    url: str
    blob: str
    mode: Mode
    action: dict[str, Any]
    token: str
    output_parameters: bool

    @property
    def query(self) -> str:
        """The URL's query string (without ``?``)."""
        return urlsplit(self.url).query


@contextlib.contextmanager
def deterministic_minting(seed: int) -> Iterator[None]:
    """Make minting reproducible: seeded nonces and transaction ids (test fixtures only)."""
    rng = random.Random(seed)
    fake_os = types.SimpleNamespace(urandom=rng.randbytes)
    saved_os, saved_tid = codec_module.os, urls_module.new_transaction_id
    codec_module.os = fake_os  # type: ignore[assignment]
    urls_module.new_transaction_id = lambda: str(uuid.UUID(bytes=rng.randbytes(16), version=4))
    try:
        yield
    finally:
        codec_module.os = saved_os
        urls_module.new_transaction_id = saved_tid


def _mint_fixtures() -> list[Fixture]:
    fixtures: list[Fixture] = []
    variants: list[tuple[str, Mode, LocalKey, str, bool, datetime | None, str]] = []
    for mode in (Mode.ENCRYPTED, Mode.SIGNED):
        tag = mode.name.lower()
        for params in (False, True):
            expiry = MINT_NOW + timedelta(days=7)
            variants.append((f"{tag}-p{int(params)}", mode, KEY, REAL_TOKEN, params, expiry, ""))
        variants.append((f"{tag}-noexp", mode, KEY, TEXT_TOKEN, True, None, ""))
    # An old key of the keyring, an expired batch, and a foreign purpose (must be refused).
    variants.append(("old-key", Mode.ENCRYPTED, OLD_KEY, REAL_TOKEN, True, None, ""))
    expired = FIXED_NOW - timedelta(minutes=10)
    variants.append(("expired", Mode.SIGNED, KEY, REAL_TOKEN, False, expired, ""))
    variants.append(("foreign", Mode.SIGNED, KEY, TEXT_TOKEN, False, None, "other-purpose"))
    for index, (label, mode, key, token, params, expiry, purpose) in enumerate(variants):
        codec = Codec(key, mode=mode, purpose=purpose or PURPOSE)
        minter = urls_module.Minter(codec, base_url=BASE_URL)
        request: dict[str, Any] = {
            "token": token,
            "actions": copy.deepcopy(ACTIONS),
            "enable_output_parameters": params,
        }
        if expiry is not None:
            request["expiration"] = expiry.isoformat()
        issued = MINT_NOW if expiry is None or expiry > MINT_NOW else expiry - timedelta(days=1)
        with deterministic_minting(index):
            response = minter.create_urls(request, now=issued)
        for action in ACTIONS:
            url = response.urls[action["name"]]
            blob = dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))["data"]
            fixtures.append(
                Fixture(f"{label}-{action['name']}", url, blob, mode, action, token, params)
            )
    fixtures.extend(_legacy_ref_fixtures())
    return fixtures


def _legacy_ref_fixtures() -> list[Fixture]:
    """URLs whose sealed schemas reference a remote and a file schema.

    As a minter without the mint-time check could have made them: opening one must never
    fetch anything.
    """
    fixtures = []
    for index, ref in enumerate((REMOTE_SCHEMA, SENTINEL_FILE.as_uri())):
        template = {
            "name": "legacy_ref",
            "type": "post",
            "outcomes": [{"name": "o", "type": "success", "schema": {}, "output_body": True}],
        }
        action = parse_action(template)
        if not isinstance(action, PostAction):  # pragma: no cover - the template is a POST
            raise TypeError("not a POST action")
        outcome = action.outcomes[0].model_copy(update={"schema_": {"$ref": ref}})
        action = action.model_copy(update={"outcomes": [outcome]})
        codec = Codec(KEY, mode=Mode.ENCRYPTED, purpose=PURPOSE)
        minter = urls_module.Minter(codec, base_url=BASE_URL)
        with deterministic_minting(1000 + index):
            url = minter.mint(REAL_TOKEN, [action], now=MINT_NOW).urls["legacy_ref"]
        blob = dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))["data"]
        fixtures.append(
            Fixture(f"legacy-ref-{index}", url, blob, Mode.ENCRYPTED, template, REAL_TOKEN, False)
        )
    return fixtures


#: Valid URLs of every action type, both modes, with and without output parameters, plus an
#: old-key, an expired and a foreign-purpose batch.
FIXTURES: list[Fixture] = _mint_fixtures()
# The actions parse (a broken fixture would make every target pointless).
for _action in ACTIONS:
    parse_action(_action)


def seal_signed_plaintext(plaintext: bytes) -> str:
    """Seal arbitrary bytes as an *authentic* signed blob under the fixed key.

    Follows the wire format (``docs/blob-format.md``) so the fuzzer reaches the decoding of
    authenticated plaintexts, which no forged blob can reach.
    """
    key_id = KEY.key_id
    header = bytes((0x10 | Mode.SIGNED, len(key_id))) + key_id + b"\x00"
    purpose = PURPOSE.encode("utf-8")
    context = len(purpose).to_bytes(2, "big") + purpose + header
    _, data_key = KEY.mint_key(PURPOSE)
    tag = data_key.mac(context + plaintext)[:16]
    return base64.urlsafe_b64encode(header + plaintext + tag).decode("ascii").rstrip("=")


def text_of(data: bytes) -> str:
    """Bytes to text, every byte sequence mapping to some string (lone surrogates included)."""
    return data.decode("utf-8", "surrogateescape")


def fuzz_main(
    test_one_input: Callable[[bytes], None],
    argv: Sequence[str] | None = None,
    *,
    custom_mutator: Callable[[bytes, int, int], bytes] | None = None,
) -> None:
    """Run ``test_one_input`` under libFuzzer with ``argv`` (``sys.argv`` by default)."""
    atheris.Setup(
        list(sys.argv if argv is None else argv), test_one_input, custom_mutator=custom_mutator
    )
    atheris.Fuzz()


FUZZ_DIR = Path(__file__).resolve().parent
