"""Fuzz `parse_create_urls_request` on arbitrary bytes and JSON, and mint what it accepts.

Each input is validated as raw JSON bytes, and, when it decodes to a JSON object, as the
decoded mapping too. Only the library's errors may escape, and nothing may open a socket or
the sentinel schema file (schemas with remote, ``file://`` and local ``$ref`` s are among the
values the mutator draws). Minted URLs and redirects must be ASCII.

A request that validates is minted with `Minter.create_urls` in both modes, and every URL it
returns must open again with the request's token, action and output-parameter flag (or minting
fails with a library error, e.g. `PayloadTooLarge`).

pydantic parses JSON in Rust, where the fuzzer sees no coverage, so byte mutations alone
rarely make a new valid request. A custom mutator therefore also mutates the JSON structure
(replaces, deletes and inserts values, drawing from the contract's field names and tricky
values) half of the time; the other half is libFuzzer's own byte mutation.

Run: ``python fuzz/fuzz_create_urls.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import sys
from typing import Any

import _common
import atheris
from _common import BASE_URL, CODECS, FIXED_NOW, SfnCallbackUrlsError

from sfn_callback_urls._models import CreateUrlsRequest
from sfn_callback_urls._urls import Minter, open_callback
from sfn_callback_urls._validation import parse_create_urls_request

_MINTERS = [Minter(codec, base_url=BASE_URL) for codec in CODECS.values()]


def _mint_and_open(request: CreateUrlsRequest) -> None:
    actions = {action.name: action for action in request.actions}
    for action in request.actions:
        redirect = action.response.redirect if action.response is not None else None
        if redirect is not None and not redirect.isascii():
            raise AssertionError(f"a redirect that cannot go on the wire: {redirect!r}")
    for minter in _MINTERS:
        try:
            response = minter.create_urls(request, now=FIXED_NOW)
        except SfnCallbackUrlsError:
            continue
        if set(response.urls) != set(actions):
            raise AssertionError("the URLs do not match the actions")
        for name, url in response.urls.items():
            if not url.isascii():
                raise AssertionError(f"a URL that is not ASCII: {url!r}")
            claims = open_callback(minter.codec, url, now=FIXED_NOW).claims
            if claims.token != request.token:
                raise AssertionError("the token changed between mint and open")
            if claims.action != actions[name]:
                raise AssertionError(f"action changed: {actions[name]!r} -> {claims.action!r}")
            if claims.output_parameters != request.enable_output_parameters:
                raise AssertionError("the output-parameter flag changed")
            if claims.transaction_id != response.transaction_id:
                raise AssertionError("the transaction id changed")


_FIELDS = [
    "token", "actions", "expiration", "enable_output_parameters", "base_url", "name", "type",
    "output", "error", "cause", "response", "confirm", "outcomes", "schema", "output_body",
    "output_path", "error_path", "cause_path", "redirect", "json", "html", "text", "$schema",
]  # fmt: skip
_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**64, -(2**63), 1e308, "", "a", "x" * 300, "\u0000",
    "\ud800", "$user", "${user}", "$", "$$", "success", "failure", "heartbeat", "post",
    "approve", "approve", "2026-06-08T12:00:00Z", "2026-06-01T12:00:00", "2026-06-01T12:00:00.5Z",
    "2106-02-07T06:28:16Z", "1970-01-01T00:00:01Z", "9999-12-31T23:59:59+14:00", "2026-13-45",
    "https://example.com", "https://example.com/x?y#z", "http://[::1]:99999", "javascript:x",
    "$.a", "$..b[*]", "$[?(@.x > 1)]", "$.a[", "a" * 65, _common.REAL_TOKEN, _common.TEXT_TOKEN,
    {}, [], {"type": "string"}, {"type": "object", "required": ["a"]}, {"$ref": "#/x"},
    {"$schema": "http://json-schema.org/draft-07/schema#"}, {"$schema": "urn:nope"},
    {"pattern": "(a+)+$"}, {"type": 5}, [1, [2, [3]]], {"a": {"b": {"c": None}}},
    {"$ref": _common.REMOTE_SCHEMA}, {"$ref": _common.SENTINEL_FILE.as_uri()},
    {"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}}, {"$ref": "#/$defs/missing"},
    {"$id": "https://example.com/s"}, {"$dynamicRef": "#meta"}, {"$ref": "other.json#/a"},
    {"patternProperties": {"(a)\\1": {}}}, {"pattern": "(?=a)"}, {"unevaluatedProperties": False},
    "https://exämple.com/ü?q=€", "https://例え.テスト/パス", "https://" + "ä" * 64 + ".com/",
    "https://example.com/a?b=c?d", "why?", "\udfff",
]  # fmt: skip


def _random_value(rng: random.Random) -> Any:
    choice = rng.random()
    if choice < 0.6:
        return copy.deepcopy(rng.choice(_VALUES))
    if choice < 0.85:
        return copy.deepcopy(rng.choice(_common.ACTIONS))
    return {rng.choice(_FIELDS): copy.deepcopy(rng.choice(_VALUES))}


def _containers(value: Any) -> list[Any]:
    found = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def _mutate_json(value: Any, rng: random.Random) -> Any:
    containers = _containers(value)
    if not containers:
        return _random_value(rng)
    target = rng.choice(containers)
    operation = rng.randrange(4)
    if isinstance(target, dict):
        keys = list(target)
        if operation == 0 and keys:
            del target[rng.choice(keys)]
        elif operation == 1 and keys:
            target[rng.choice(keys)] = _random_value(rng)
        else:
            target[rng.choice(_FIELDS)] = _random_value(rng)
    elif operation == 0 and target:
        del target[rng.randrange(len(target))]
    elif operation == 1 and target:
        target[rng.randrange(len(target))] = _random_value(rng)
    elif operation == 2 and target:
        target.append(copy.deepcopy(rng.choice(target)))
    else:
        target.insert(rng.randrange(len(target) + 1), _random_value(rng))
    return value


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Half the time mutate the JSON structure, else libFuzzer's byte mutations."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        return atheris.Mutate(data, max_size)
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return atheris.Mutate(data, max_size)
    for _ in range(rng.randint(1, 3)):
        value = _mutate_json(value, rng)
    out = json.dumps(value).encode("utf-8")
    return out if len(out) <= max_size else atheris.Mutate(data, max_size)


def test_one_input(data: bytes) -> None:
    """Validate ``data`` as a create-URLs request (bytes and mapping); mint the valid ones."""
    try:
        _validate_and_mint(data)
    finally:
        _common.check_no_side_effects()  # no schema may make validation fetch anything


def _validate_and_mint(data: bytes) -> None:
    try:
        request = parse_create_urls_request(data, now=FIXED_NOW)
    except SfnCallbackUrlsError:
        request = None
    if request is not None:
        _mint_and_open(request)
    # The same input as text (lone surrogates included) and, when it is a JSON object, as the
    # mapping json.loads makes of it (a Lambda's event, say): different parsers, same rules.
    with contextlib.suppress(SfnCallbackUrlsError):
        parse_create_urls_request(_common.text_of(data), now=FIXED_NOW)
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError):
        return
    if isinstance(decoded, dict):
        try:
            request = parse_create_urls_request(decoded, now=FIXED_NOW)
        except SfnCallbackUrlsError:
            return
        _mint_and_open(request)


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv, custom_mutator=custom_mutator)
