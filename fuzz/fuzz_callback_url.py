"""Fuzz `CallbackQuery.parse` and `open_callback` on arbitrary query strings and URLs.

The input, decoded to text, is read as a URL or a bare query string (as a mapping too, when it
parses), then verified by the encrypted and the signed codec. Only the library's errors may
escape. Whatever verifies must be one of the URLs we minted: a known token, no ``data`` among
the output parameters, and ``action``/``type`` that, when present, match the sealed ones.

Differential check: what `CallbackQuery.parse` reads must be what a front end (a WAF, API
Gateway's own parsing, a log pipeline) reads from the same text: urllib's ``urlsplit`` for a
whole URL, ``parse_qsl`` for a query string. If the front end sees anything but exactly one
``data``, or another ``data``/``action``/``type`` than we do, that is a finding (a parser
mismatch lets one request mean two things).

The corpus holds real callback URLs, so mutations of their other parameters (and of ``action``
and ``type``) reach the checks after authentication.

Run: ``python fuzz/fuzz_callback_url.py [libFuzzer flags] [corpus dirs]``.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import parse_qsl, urlsplit

import _common
from _common import CODECS, FIXED_NOW, KNOWN_TOKENS, SfnCallbackUrlsError

from sfn_callback_urls._urls import CallbackQuery, OpenedCallback, open_callback

# A whole URL: an RFC 3986 scheme and "://"; anything else, even starting with "/", "?", "#" or
# "//", is a query string (what a server passes on after the first "?"), read whole.
_WHOLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def _front_end_view(text: str) -> dict[str, list[str]]:
    """The parameters a front end reads from ``text`` (every value of every name)."""
    query = urlsplit(text).query if _WHOLE_URL.match(text) else text
    seen: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        seen.setdefault(name, []).append(value)
    return seen


def _check_same_reading(text: str, query: CallbackQuery) -> None:
    seen = _front_end_view(text)
    if seen.get("data") != [query.data]:
        raise AssertionError(f"data read as {query.data!r}, a front end reads {seen.get('data')}")
    for name, ours in (("action", query.action), ("type", query.type)):
        theirs = seen.get(name)
        if (ours is None and theirs) or (ours is not None and (not theirs or theirs[0] != ours)):
            raise AssertionError(f"{name} read as {ours!r}, a front end reads {theirs}")


def _check(opened: OpenedCallback, query: CallbackQuery) -> None:
    claims, params = opened.claims, opened.params
    if claims.token not in KNOWN_TOKENS:
        raise AssertionError(f"a URL we never minted opened: {query!r}")
    if "data" in params:
        raise AssertionError("the blob leaked into the output parameters")
    if query.action is not None and query.action != claims.action.name:
        raise AssertionError(f"action {query.action!r} accepted for {claims.action.name!r}")
    if query.type is not None and query.type != claims.action.type:
        raise AssertionError(f"type {query.type!r} accepted for {claims.action.type!r}")


def test_one_input(data: bytes) -> None:
    """Parse and open ``data`` as a callback URL (and as a mapping of its parameters)."""
    text = _common.text_of(data)
    try:
        query = CallbackQuery.parse(text)
    except SfnCallbackUrlsError:
        for codec in CODECS.values():  # open_callback must refuse it the same way
            try:
                open_callback(codec, text, now=FIXED_NOW)
            except SfnCallbackUrlsError:
                continue
            raise AssertionError(f"open_callback accepted what parse refused: {text!r}") from None
        return
    _check_same_reading(text, query)
    # The text, the same parameters as a mapping (what adapters that pre-parse the query
    # pass), and the parsed query itself.
    mapping = {"data": query.data, **dict(query.params)}
    for item in (text, mapping, query):
        for codec in CODECS.values():
            try:
                opened = open_callback(codec, item, now=FIXED_NOW)
            except SfnCallbackUrlsError:
                continue
            _check(opened, query)


if __name__ == "__main__":
    _common.fuzz_main(test_one_input, sys.argv)
